/**
 * Where the commits of a GCPersist collector go: an image file (the NVM
 * stand-in, persistent-image.ts) or, when no image path is given, memory. The
 * memory sink keeps a copy of every committed region, so the same commit
 * logic and the same image checks (image-check.ts) run in tests without
 * writing a file, and nothing leaks between runs.
 *
 *   sink      commit(content)          readBack()                       file
 *   file      PersistentImage.commit   recoverImage(path) (re-reads)    <path>, created or appended to
 *   memory    copies changed regions   the copies                        none
 */
import type { CommitStats, EpochContent, RecoveredImage } from './image-format.js';
import { PersistentImage } from './persistent-image.js';
import { recoverImage } from './recovery.js';

export interface ImageSink {
  readonly kind: 'file' | 'memory';
  /** The image file, or '' for memory. */
  readonly path: string;
  readonly epoch: number;
  commit(content: EpochContent): CommitStats;
  /** The newest committed epoch as recovery would load it. */
  readBack(): RecoveredImage;
  close(): void;
}

export class FileSink implements ImageSink {
  readonly kind = 'file';
  private constructor(readonly path: string, private readonly image: PersistentImage) {}

  /** A new image at `path` (refused if the file exists). */
  static create(path: string, geometry: { regionBytes: number; regionCount: number }): FileSink {
    return new FileSink(path, PersistentImage.create(path, geometry));
  }

  /** An existing image, to append epochs after its newest valid one. */
  static open(path: string): FileSink {
    return new FileSink(path, PersistentImage.open(path));
  }

  get epoch(): number { return this.image.epoch; }
  get fileBytes(): number { return this.image.fileBytes; }

  commit(content: EpochContent): CommitStats {
    return this.image.commit(content);
  }

  readBack(): RecoveredImage {
    return recoverImage(this.path);
  }

  close(): void {
    this.image.close();
  }
}

export class MemorySink implements ImageSink {
  readonly kind = 'memory';
  readonly path = '';
  private current: RecoveredImage;

  constructor(geometry: { regionBytes: number; regionCount: number }, start?: RecoveredImage) {
    this.current = start
      ? { ...start, regions: new Map(start.regions) }
      : { epoch: 0, geometry: { ...geometry }, regions: new Map(), roots: {}, types: [], meta: {} };
  }

  get epoch(): number { return this.current.epoch; }

  commit(content: EpochContent): CommitStats {
    const t0 = performance.now();
    const regions = new Map<number, Int32Array>();
    const changed = new Map(content.regions.map((r) => [r.index, r.words]));
    let bytes = 0;
    for (const r of content.persistentRegions) {
      const w = changed.get(r);
      if (w) {
        regions.set(r, w.slice());
        bytes += w.byteLength;
      } else {
        const prev = this.current.regions.get(r);
        if (!prev) throw new Error(`memory image: persistent region ${r} is unchanged but epoch ${this.current.epoch} holds no data for it`);
        regions.set(r, prev);
      }
    }
    const epoch = this.current.epoch + 1;
    this.current = {
      epoch,
      geometry: this.current.geometry,
      regions,
      roots: { ...content.roots },
      types: content.types.map((t) => ({ name: t.name, kind: t.kind, refs: t.refs, dataWords: t.dataWords, elementWords: t.elementWords })),
      meta: { ...(content.meta ?? {}) },
    };
    return { epoch, bytesWritten: bytes, regionsWritten: content.regions.length, writeMs: performance.now() - t0, syncMs: 0, fileBytes: 0, compactMs: 0 };
  }

  readBack(): RecoveredImage {
    return { ...this.current, regions: new Map(this.current.regions), roots: { ...this.current.roots }, meta: { ...this.current.meta } };
  }

  close(): void {}
}
