// The one error the bbolt reader throws for a file that is not a well-formed bbolt/etcd backend.
// Messages name the page and the byte offset of that page's first byte, e.g.
//   page 37 at byte 151552: leaf element 3 key extends past page end
// so a user can look at the spot with `xxd -s 151552 -l 4096 db`.

export class BoltFormatError extends Error {
  /** Stable code for the CLI's exit-code mapping: bad input, exit 2. */
  readonly code = 'input';
  /** The page the problem was found in, when there is one. */
  readonly pageId: number | null;
  /** Byte offset in the file of that page (or of the structure named in the message). */
  readonly byteOffset: number | null;

  constructor(message: string, pageId: number | null = null, byteOffset: number | null = null) {
    super(pageId !== null && byteOffset !== null ? `page ${pageId} at byte ${byteOffset}: ${message}` : message);
    this.name = 'BoltFormatError';
    this.pageId = pageId;
    this.byteOffset = byteOffset;
  }
}
