/**
 * Object layout (vm-core/layout.ts, vm-core/type-registry.ts): the header
 * word's bit fields, object alignment, struct padding that puts float64 data
 * on 8-byte boundaries, array sizing, and reference 0 meaning null.
 */
import { describe, expect, it } from 'vitest';
import {
  AGE_MASK, CARD_BYTES, CARD_WORDS, HEADER_WORDS, MAX_AGE, MAX_TYPE_ID, STATE_FORWARDED, STATE_MASK, STATE_NORMAL, TYPE_SHIFT, WORD_BYTES,
  ageOf, alignObjectWords, headerWord, typeIdOf,
} from '../../vm-core/layout.js';
import { UsageError } from '../../vm-core/errors.js';
import { FILLER_TYPE_ID, TYPE_STRUCT, TypeRegistry } from '../../vm-core/type-registry.js';
import { testVm } from '../kit/fixtures.js';

describe('header word', () => {
  it('round-trips type id and age, with state bits NORMAL', () => {
    for (const [type, age] of [[1, 0], [5, 3], [4095, 15], [MAX_TYPE_ID, MAX_AGE]]) {
      const h = headerWord(type, age);
      expect(typeIdOf(h)).toBe(type);
      expect(ageOf(h)).toBe(age);
      expect(h & STATE_MASK).toBe(STATE_NORMAL);
    }
  });

  it('keeps bit 31 clear, so headers are non-negative int32 values', () => {
    const h = headerWord(MAX_TYPE_ID, MAX_AGE);
    expect(h).toBeGreaterThan(0);
    expect(h | 0).toBe(h);
  });

  it('forwarding changes only the state bits', () => {
    const h = headerWord(77, 9);
    const forwarded = (h & ~STATE_MASK) | STATE_FORWARDED;
    expect(forwarded & STATE_MASK).toBe(STATE_FORWARDED);
    expect(typeIdOf(forwarded)).toBe(77);
    expect(ageOf(forwarded)).toBe(9);
    expect(AGE_MASK & STATE_MASK).toBe(0);
    expect((MAX_TYPE_ID << TYPE_SHIFT) & (AGE_MASK | STATE_MASK)).toBe(0);
  });
});

describe('alignment', () => {
  it('rounds object sizes up to an even number of words', () => {
    expect([1, 2, 3, 4, 7, 8].map(alignObjectWords)).toEqual([2, 2, 4, 4, 8, 8]);
  });

  it('cards are 512 bytes of 4-byte words', () => {
    expect(CARD_WORDS * WORD_BYTES).toBe(CARD_BYTES);
  });
});

describe('struct padding', () => {
  const types = new TypeRegistry();
  const cases: Array<[string, number, number, number, number]> = [
    // name, refs, data, expected dataOffset, expected size
    ['empty', 0, 0, 2, 2],
    ['one-ref', 1, 0, 4, 4],
    ['data-only', 0, 2, 2, 4],
    ['odd-refs', 1, 2, 4, 6],
    ['even-refs', 2, 1, 4, 6],
    ['three-refs', 3, 4, 6, 10],
    ['five-refs-odd-data', 5, 7, 8, 16],
  ];
  for (const [name, refs, data, dataOffset, size] of cases) {
    it(`${name}: ${refs} refs + ${data} data words -> data at word ${dataOffset}, ${size} words`, () => {
      const id = types.struct(name, refs, data);
      const info = types.info(id);
      expect(info.kind).toBe(TYPE_STRUCT);
      expect(info.dataOffset).toBe(dataOffset);
      expect(info.dataOffset % 2).toBe(0);
      expect(info.dataOffset).toBeGreaterThanOrEqual(HEADER_WORDS + refs);
      expect(info.sizeWords).toBe(size);
      expect(types.sizeWords[id]).toBe(size);
    });
  }

  it('float64 struct data lands on 8-byte boundaries and leaves the reference slots alone', () => {
    const { vm, m, t } = testVm();
    for (let k = 0; k < 5; k++) {
      const obj = m.alloc(t.tri);
      const off = vm.types.dataOffset(t.tri, 0);
      expect(((obj + off) * 4) % 8).toBe(0);
      m.setF64(obj, off, Math.PI * (k + 1));
      m.setF64(obj, off + 2, -1.5e300);
      expect(m.getF64(obj, off)).toBe(Math.PI * (k + 1));
      expect(m.getF64(obj, off + 2)).toBe(-1.5e300);
      expect(vm.heap.f64[(obj + off) >> 1]).toBe(Math.PI * (k + 1));
      for (let i = 0; i < 3; i++) expect(m.getRef(obj, i)).toBe(0);
    }
  });

  it('float64 array elements are 8-byte aligned', () => {
    const { m, t } = testVm();
    m.alloc(t.cons);
    const arr = m.allocArray(t.f64s, 3);
    for (let i = 0; i < 3; i++) {
      expect(((arr + HEADER_WORDS + 2 * i) * 4) % 8).toBe(0);
      m.setF64(arr, HEADER_WORDS + 2 * i, i + 0.25);
    }
    expect([0, 1, 2].map((i) => m.getF64(arr, HEADER_WORDS + 2 * i))).toEqual([0.25, 1.25, 2.25]);
  });
});

describe('type registry', () => {
  it('sizes arrays: header plus elements, rounded to even', () => {
    const types = new TypeRegistry();
    const refs = types.refArray('refs');
    const i32 = types.dataArray('i32', 1);
    const f64 = types.dataArray('f64', 2);
    expect(types.arrayWords(refs, 0)).toBe(2);
    expect(types.arrayWords(refs, 3)).toBe(6);
    expect(types.arrayWords(i32, 4)).toBe(6);
    expect(types.arrayWords(f64, 3)).toBe(8);
  });

  it('re-registering a type with the same shape returns its id; another shape is a usage error', () => {
    const types = new TypeRegistry();
    const id = types.struct('Node', 2, 1);
    expect(types.struct('Node', 2, 1)).toBe(id);
    expect(() => types.struct('Node', 1, 1)).toThrow(UsageError);
    expect(() => types.struct('Bad', -1, 0)).toThrow(UsageError);
  });

  it('type id 0 is invalid and 1 is the filler', () => {
    const types = new TypeRegistry();
    expect(types.isValid(0)).toBe(false);
    expect(FILLER_TYPE_ID).toBe(1);
    expect(types.info(FILLER_TYPE_ID).name).toBe('<filler>');
  });
});

describe('null', () => {
  it('reference 0 is null: region 0 starts with a permanent filler, so no object lives at word 0', () => {
    const { vm, m, t } = testVm();
    expect(typeIdOf(vm.heap.words[0])).toBe(FILLER_TYPE_ID);
    const first = m.alloc(t.leaf);
    expect(first).toBeGreaterThanOrEqual(2);
  });
});
