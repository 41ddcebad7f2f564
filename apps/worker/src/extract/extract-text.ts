import { extname } from 'node:path';
import { convert as htmlToText } from 'html-to-text';
import { StepError } from '../step/step-error';

export type DocumentFormat = 'text' | 'markdown' | 'html' | 'pdf' | 'docx';

const BY_TYPE: Record<string, DocumentFormat> = {
  'text/plain': 'text',
  'text/csv': 'text',
  'application/json': 'text',
  'text/markdown': 'markdown',
  'text/x-markdown': 'markdown',
  'text/html': 'html',
  'application/xhtml+xml': 'html',
  'application/pdf': 'pdf',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
};

const BY_EXTENSION: Record<string, DocumentFormat> = {
  '.txt': 'text',
  '.csv': 'text',
  '.json': 'text',
  '.md': 'markdown',
  '.markdown': 'markdown',
  '.html': 'html',
  '.htm': 'html',
  '.pdf': 'pdf',
  '.docx': 'docx',
};

/** The format from the declared content type, then the file extension; generic types defer to the extension. */
export function detectFormat(name: string, contentType: string): DocumentFormat | undefined {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  const byType = BY_TYPE[type];
  if (byType && type !== 'text/plain') return byType;
  return (
    BY_EXTENSION[extname(name).toLowerCase()] ?? byType ?? (type.startsWith('text/') ? 'text' : undefined)
  );
}

function decodeUtf8(bytes: Buffer, name: string): string {
  // A NUL byte in the first 8 KB is the classic sign of a binary file.
  if (bytes.subarray(0, 8192).includes(0)) throw StepError.permanent(`${name} looks binary, not text`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    throw StepError.permanent(`${name} is not valid UTF-8 text`);
  }
}

async function pdfText(bytes: Buffer, name: string): Promise<string> {
  if (!bytes.subarray(0, 1024).toString('latin1').includes('%PDF-'))
    throw StepError.permanent(`${name} is not a PDF`);
  try {
    const { extractText, getDocumentProxy } = await import('unpdf');
    const pdf = await getDocumentProxy(new Uint8Array(bytes));
    const { text } = await extractText(pdf, { mergePages: false });
    return (text as string[]).join('\n\n');
  } catch (error) {
    throw StepError.permanent(`${name} could not be read as a PDF: ${(error as Error).message}`);
  }
}

async function docxText(bytes: Buffer, name: string): Promise<string> {
  if (bytes.readUInt32BE(0) !== 0x504b0304) throw StepError.permanent(`${name} is not a DOCX (ZIP) file`);
  try {
    const mammoth = await import('mammoth');
    const out = await mammoth.extractRawText({ buffer: bytes });
    return out.value;
  } catch (error) {
    throw StepError.permanent(`${name} could not be read as a DOCX: ${(error as Error).message}`);
  }
}

/** Text of a document, with established parsers per format. Unreadable input is a permanent failure. */
export async function extractText(
  bytes: Buffer,
  name: string,
  contentType: string,
): Promise<{ format: DocumentFormat; text: string }> {
  if (bytes.length === 0) throw StepError.permanent(`${name} is empty`);
  const format = detectFormat(name, contentType);
  if (!format) throw StepError.permanent(`${name}: unsupported content type ${contentType}`);
  let text: string;
  switch (format) {
    case 'text':
    case 'markdown':
      text = decodeUtf8(bytes, name);
      break;
    case 'html':
      text = htmlToText(decodeUtf8(bytes, name), {
        wordwrap: false,
        selectors: [
          { selector: 'a', options: { ignoreHref: true } },
          { selector: 'img', format: 'skip' },
        ],
      });
      break;
    case 'pdf':
      text = await pdfText(bytes, name);
      break;
    case 'docx':
      text = await docxText(bytes, name);
      break;
  }
  const normalized = text
    .replace(/\r\n?/g, '\n')
    .replace(/[ \t]+\n/g, '\n')
    .trim();
  if (!normalized) throw StepError.permanent(`${name} contains no text`);
  return { format, text: normalized };
}
