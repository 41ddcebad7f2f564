import { randomBytes } from 'node:crypto';
import type { KeyOwner } from '@docflow/contracts';
import { DecryptError, EnvelopeCipher, apiKeyContext, dataKeyContext, type SealedSecret } from './envelope';
import { LocalKeyProvider, UnwrapError, type WrappedKey } from './key-provider';

const alice: KeyOwner = { ownerType: 'user', ownerId: '0b6c3f7e-2b1d-4a52-9b55-2f1f8c7d0a01' };
const bob: KeyOwner = { ownerType: 'user', ownerId: '5d0f1c2e-8a3b-4c6d-9e7f-1a2b3c4d5e6f' };
const aliceTeam: KeyOwner = { ownerType: 'team', ownerId: alice.ownerId };
const KEY_ID = '7f3e9a10-5b2c-4d8e-a1f0-123456789abc';
const DATA_KEY_ID = 'c1d2e3f4-0a1b-4c2d-8e3f-abcdefabcdef';
const SECRET = 'sk-test-0123456789abcdefghijklmnopqrstuvwxyz';

function flip(buffer: Buffer, index = 0): Buffer {
  const copy = Buffer.from(buffer);
  copy[index] = copy[index]! ^ 0x01;
  return copy;
}

describe(EnvelopeCipher.name, () => {
  const master = { id: 'm1', key: randomBytes(32) };
  const provider = new LocalKeyProvider(master);
  const sut = new EnvelopeCipher(provider);
  let dataKey: Buffer;
  let sealed: SealedSecret;
  const context = apiKeyContext(alice, KEY_ID, DATA_KEY_ID);

  beforeEach(async () => {
    dataKey = (await sut.newDataKey(alice)).dataKey;
    sealed = sut.seal(dataKey, SECRET, context);
  });

  it('opens what it sealed, and the ciphertext does not contain the secret', () => {
    expect(sut.open(dataKey, sealed, context)).toBe(SECRET);
    expect(sealed.ciphertext.toString('latin1')).not.toContain(SECRET);
    expect(sealed.ciphertext.length).toBe(Buffer.byteLength(SECRET));
  });

  it('uses a fresh IV each time: the same secret seals differently', () => {
    const again = sut.seal(dataKey, SECRET, context);
    expect(again.iv.equals(sealed.iv)).toBe(false);
    expect(again.ciphertext.equals(sealed.ciphertext)).toBe(false);
  });

  it.each([0, 5, Buffer.byteLength(SECRET) - 1])('refuses a ciphertext changed at byte %i', (index) => {
    expect(() =>
      sut.open(dataKey, { ...sealed, ciphertext: flip(sealed.ciphertext, index) }, context),
    ).toThrow(DecryptError);
  });

  it('refuses a changed tag, a truncated tag and a changed IV', () => {
    expect(() => sut.open(dataKey, { ...sealed, tag: flip(sealed.tag, 15) }, context)).toThrow(DecryptError);
    expect(() => sut.open(dataKey, { ...sealed, tag: sealed.tag.subarray(0, 12) }, context)).toThrow(
      DecryptError,
    );
    expect(() => sut.open(dataKey, { ...sealed, iv: flip(sealed.iv) }, context)).toThrow(DecryptError);
  });

  it.each([
    ['another owner', apiKeyContext(bob, KEY_ID, DATA_KEY_ID)],
    ['the same id as a team', apiKeyContext(aliceTeam, KEY_ID, DATA_KEY_ID)],
    ['another key id', apiKeyContext(alice, DATA_KEY_ID, DATA_KEY_ID)],
    ['another data key id', apiKeyContext(alice, KEY_ID, KEY_ID)],
    ['one changed byte', flip(context, context.length - 1)],
  ])('refuses a ciphertext moved to %s (associated data differs)', (_what, other) => {
    expect(() => sut.open(dataKey, sealed, other)).toThrow(DecryptError);
  });

  it("refuses another owner's data key", async () => {
    const other = (await sut.newDataKey(bob)).dataKey;
    expect(() => sut.open(other, sealed, context)).toThrow(DecryptError);
  });

  describe('wrapped data keys', () => {
    let wrapped: WrappedKey;
    let plain: Buffer;

    beforeEach(async () => {
      ({ dataKey: plain, wrapped } = await sut.newDataKey(alice));
    });

    it('unwraps to the same data key for the same owner, and the wrapped form hides it', async () => {
      expect((await sut.unwrapDataKey(alice, wrapped)).equals(plain)).toBe(true);
      expect(wrapped.masterKeyId).toBe('m1');
      expect(wrapped.wrapped.includes(plain)).toBe(false);
    });

    it.each([1, 13, 30, -1])('refuses a wrapped data key changed at byte %i', async (index) => {
      const at = index < 0 ? wrapped.wrapped.length + index : index;
      await expect(
        sut.unwrapDataKey(alice, { ...wrapped, wrapped: flip(wrapped.wrapped, at) }),
      ).rejects.toThrow(UnwrapError);
    });

    it('refuses a wrapped data key copied to another owner', async () => {
      await expect(sut.unwrapDataKey(bob, wrapped)).rejects.toThrow(UnwrapError);
      await expect(sut.unwrapDataKey(aliceTeam, wrapped)).rejects.toThrow(UnwrapError);
    });

    it('refuses a wrapped data key labelled with another master key id, or an unknown one', async () => {
      const two = new LocalKeyProvider(master, [{ id: 'm0', key: Buffer.from(master.key) }]);
      // Same key bytes under another id: the id is authenticated too.
      await expect(two.unwrap({ ...wrapped, masterKeyId: 'm0' }, dataKeyContext(alice))).rejects.toThrow(
        UnwrapError,
      );
      await expect(sut.unwrapDataKey(alice, { ...wrapped, masterKeyId: 'nope' })).rejects.toThrow(
        'master key nope is not configured',
      );
    });

    it('refuses a data key wrapped by another master key with the same id', async () => {
      const impostor = new EnvelopeCipher(new LocalKeyProvider({ id: 'm1', key: randomBytes(32) }));
      await expect(impostor.unwrapDataKey(alice, wrapped)).rejects.toThrow(UnwrapError);
    });

    it('re-wraps under the active master key without changing the data key', async () => {
      const next = new LocalKeyProvider({ id: 'm2', key: randomBytes(32) }, [master]);
      const rotated = await new EnvelopeCipher(next).rewrapDataKey(alice, wrapped);
      expect(rotated.masterKeyId).toBe('m2');
      const onlyNew = new EnvelopeCipher(new LocalKeyProvider({ id: 'm2', key: next['keys'].get('m2')! }));
      expect((await onlyNew.unwrapDataKey(alice, rotated)).equals(plain)).toBe(true);
      await expect(onlyNew.unwrapDataKey(alice, wrapped)).rejects.toThrow(UnwrapError);
    });
  });
});

describe(LocalKeyProvider.name, () => {
  it('refuses master keys that are not 32 bytes, and an id configured twice', () => {
    expect(() => new LocalKeyProvider({ id: 'a', key: randomBytes(16) })).toThrow('must be 32 bytes');
    expect(
      () => new LocalKeyProvider({ id: 'a', key: randomBytes(32) }, [{ id: 'a', key: randomBytes(32) }]),
    ).toThrow('configured twice');
  });

  it('tells which master keys it holds', () => {
    const sut = new LocalKeyProvider({ id: 'new', key: randomBytes(32) }, [
      { id: 'old', key: randomBytes(32) },
    ]);
    expect(sut.activeKeyId).toBe('new');
    expect([sut.canUnwrap('new'), sut.canUnwrap('old'), sut.canUnwrap('other')]).toEqual([true, true, false]);
  });
});
