import { detectFormat, extractText } from './extract-text';
import { makeDocx, makePdf } from './fixtures';

describe(extractText.name, () => {
  it('reads plain text and strips a BOM', async () => {
    expect(await extractText(Buffer.from('\uFEFFHello\r\nworld  \n'), 'a.txt', 'text/plain')).toEqual({
      format: 'text',
      text: 'Hello\nworld',
    });
  });

  it('keeps Markdown as it is', async () => {
    const md = '# Title\n\n- one\n- two';
    expect(await extractText(Buffer.from(md), 'notes.md', 'text/markdown')).toEqual({
      format: 'markdown',
      text: md,
    });
  });

  it('turns HTML into text without scripts, styles or link targets', async () => {
    const html =
      '<html><head><style>p{}</style><script>alert(1)</script></head><body><h1>Report</h1><p>Sales <a href="http://x">grew</a>.</p></body></html>';
    const out = await extractText(Buffer.from(html), 'page.html', 'text/html');
    expect(out.format).toBe('html');
    expect(out.text).toContain('REPORT');
    expect(out.text).toContain('Sales grew.');
    expect(out.text).not.toMatch(/alert|http:\/\/x|p\{\}/);
  });

  it('reads the text of a PDF', async () => {
    const out = await extractText(
      makePdf(['Quarterly report', 'Revenue grew by 12 percent.']),
      'r.pdf',
      'application/pdf',
    );
    expect(out.format).toBe('pdf');
    expect(out.text).toContain('Quarterly report');
    expect(out.text).toContain('Revenue grew by 12 percent.');
  });

  it('reads the text of a DOCX', async () => {
    const docx = await makeDocx(['First paragraph.', 'Second & last.']);
    const out = await extractText(
      docx,
      'r.docx',
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    );
    expect(out).toEqual({ format: 'docx', text: 'First paragraph.\n\nSecond & last.' });
  });

  it.each([
    ['empty', Buffer.alloc(0), 'a.txt', 'text/plain', 'a.txt is empty'],
    ['whitespace only', Buffer.from(' \n\t\n'), 'a.txt', 'text/plain', 'a.txt contains no text'],
    [
      'binary',
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 13]),
      'a.txt',
      'text/plain',
      'a.txt looks binary, not text',
    ],
    [
      'invalid UTF-8',
      Buffer.from([0x48, 0x69, 0xc3, 0x28]),
      'a.txt',
      'text/plain',
      'a.txt is not valid UTF-8 text',
    ],
    ['a PDF that is not one', Buffer.from('hello'), 'x.pdf', 'application/pdf', 'x.pdf is not a PDF'],
    [
      'a broken PDF',
      Buffer.from('%PDF-1.4\ngarbage'),
      'x.pdf',
      'application/pdf',
      'x.pdf could not be read as a PDF',
    ],
    [
      'a DOCX that is not a zip',
      Buffer.from('hello'),
      'x.docx',
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      'x.docx is not a DOCX (ZIP) file',
    ],
    [
      'an unsupported type',
      Buffer.from('x'),
      'x.bin',
      'application/octet-stream',
      'x.bin: unsupported content type application/octet-stream',
    ],
  ])('fails permanently on %s', async (_label, bytes, name, type, message) => {
    await expect(extractText(bytes, name, type)).rejects.toMatchObject({
      kind: 'permanent',
      message: expect.stringContaining(message),
    });
  });
});

describe(detectFormat.name, () => {
  it.each([
    ['a.md', 'text/plain', 'markdown'],
    ['a.txt', 'text/markdown; charset=utf-8', 'markdown'],
    ['a.HTML', 'application/octet-stream', 'html'],
    ['a', 'text/x-log', 'text'],
    ['a.bin', 'application/octet-stream', undefined],
  ])('%s as %s is %s', (name, type, format) => {
    expect(detectFormat(name, type)).toBe(format);
  });
});
