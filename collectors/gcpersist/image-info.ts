/**
 * What an image says about itself without loading it: its newest valid epoch
 * and the heap geometry it was written by (so `heaplab run --recover` can size
 * the fresh heap to match). Read-only; checks superblocks and the manifest,
 * not the region blocks (recovery.ts checks those when it loads them).
 */
import * as fs from 'node:fs';
import { openImageReadOnly, readHead } from './recovery.js';

export interface ImageInfo {
  epoch: number;
  regionBytes: number;
  regionCount: number;
  heapBytes: number;
  regions: number;
  roots: string[];
}

export function imageInfo(path: string): ImageInfo {
  const fd = openImageReadOnly(path);
  try {
    const { sb, manifest } = readHead(fd, path);
    const { regionBytes, regionCount } = sb.geometry;
    return { epoch: sb.epoch, regionBytes, regionCount, heapBytes: regionBytes * regionCount, regions: manifest.entries.length, roots: Object.keys(manifest.roots) };
  } finally {
    fs.closeSync(fd);
  }
}
