import { createReadStream, createWriteStream, renameSync, rmSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { ApiClient } from './api-client';
import type { OwnerPath } from './owner';
import { CliError, ExitCode, networkError } from './errors';

export interface DocumentView {
  id: string;
  userId: string;
  /** A team's document (the team's routes, `--team`). */
  teamId?: string;
  name: string;
  kind: string;
  contentType: string;
  size: number;
  status: 'pending_upload' | 'uploaded' | 'rejected' | 'deleted';
  statusReason?: string;
  createdAt: string;
  updatedAt: string;
  uploadedAt?: string;
}

export interface DocumentWithUpload extends DocumentView {
  upload: { url: string; method: 'PUT'; headers: Record<string, string>; expiresAt: string };
}

export interface DocumentWithDownload extends DocumentView {
  download?: { url: string; expiresAt: string };
}

const CONTENT_TYPES: Record<string, string> = {
  '.txt': 'text/plain',
  '.text': 'text/plain',
  '.log': 'text/plain',
  '.md': 'text/markdown',
  '.markdown': 'text/markdown',
  '.html': 'text/html',
  '.htm': 'text/html',
  '.csv': 'text/csv',
  '.json': 'application/json',
  '.xml': 'application/xml',
  '.pdf': 'application/pdf',
  '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
};

/** By the file's extension; `application/octet-stream` when it says nothing. */
export function contentTypeOf(file: string): string {
  return CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** Registers a document of `owner` (the caller, or a team) and PUTs the file's bytes, streamed, to the presigned URL. */
export async function uploadFile(
  client: ApiClient,
  owner: OwnerPath,
  file: string,
  contentType = contentTypeOf(file),
): Promise<DocumentWithUpload> {
  let size: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) throw new Error('not a file');
    size = stat.size;
  } catch (error) {
    throw new CliError(`${file}: ${(error as Error).message}`, ExitCode.USAGE);
  }
  if (size === 0) throw new CliError(`${file}: empty (a document has at least one byte)`, ExitCode.USAGE);
  const doc = await client.request<DocumentWithUpload>('POST', `${owner}/docs`, {
    body: { name: basename(file), contentType, size },
  });
  let response: Response;
  try {
    response = await client.fetch(doc.upload.url, {
      method: doc.upload.method ?? 'PUT',
      headers: uploadHeaders(contentType, doc.upload.headers, size),
      body: Readable.toWeb(createReadStream(file)) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
  } catch (error) {
    throw networkError(`uploading ${file}`, error);
  }
  const answer = await response.text().catch(() => '');
  if (!response.ok)
    throw new CliError(
      `uploading ${file}: object storage answered ${response.status} ${firstLine(answer)}`.trim(),
      response.status >= 500 ? ExitCode.UNAVAILABLE : ExitCode.FAILED,
    );
  return doc;
}

/** The signed headers the API gave (case-insensitively over our content type) and the exact length. */
function uploadHeaders(contentType: string, signed: Record<string, string>, size: number): Headers {
  const headers = new Headers({ 'content-type': contentType });
  for (const [name, value] of Object.entries(signed ?? {})) headers.set(name, value);
  headers.set('content-length', String(size));
  return headers;
}

/** Polls the document until the storage event has marked it `uploaded`; `rejected` or a timeout fail. */
export async function waitUntilUploaded(
  client: ApiClient,
  owner: OwnerPath,
  docId: string,
  timeoutMs: number,
  now: () => number = Date.now,
): Promise<DocumentView> {
  const deadline = now() + timeoutMs;
  for (let delay = 100; ; delay = Math.min(delay * 2, 2_000)) {
    const doc = await client.request<DocumentWithDownload>(
      'GET',
      `${owner}/docs/${encodeURIComponent(docId)}`,
    );
    if (doc.status === 'uploaded') return withoutUrls(doc);
    if (doc.status === 'rejected' || doc.status === 'deleted')
      throw new CliError(
        `document ${docId} (${doc.name}) was ${doc.status}${doc.statusReason ? `: ${doc.statusReason}` : ''}`,
        ExitCode.FAILED,
      );
    if (now() >= deadline)
      throw new CliError(
        `document ${docId} (${doc.name}) is still ${doc.status} after ${Math.round(timeoutMs / 1000)} s`,
        ExitCode.UNAVAILABLE,
      );
    await client.sleep(delay);
  }
}

/** A document as the CLI shows it: never its presigned URLs (anyone holding one reads the object). */
export function withoutUrls<T extends DocumentView>(doc: T): DocumentView {
  const {
    upload: _upload,
    download: _download,
    ...rest
  } = doc as T & { upload?: unknown; download?: unknown };
  return rest;
}

/**
 * Streams an uploaded document to `target` (a file path, or `-` for stdout). The bytes go to a temporary file
 * first, renamed when complete, so a failed download never leaves a partial file under the final name.
 */
export async function downloadDocument(
  client: ApiClient,
  owner: OwnerPath,
  docId: string,
  target: string | ((doc: DocumentView) => string),
  stdout?: Writable,
): Promise<{ doc: DocumentView; path: string; bytes: number }> {
  const doc = await client.request<DocumentWithDownload>('GET', `${owner}/docs/${encodeURIComponent(docId)}`);
  if (doc.status !== 'uploaded' || !doc.download)
    throw new CliError(`document ${docId} (${doc.name}) is ${doc.status}, not downloadable`, ExitCode.FAILED);
  const path = typeof target === 'function' ? target(withoutUrls(doc)) : target;
  let response: Response;
  try {
    response = await client.fetch(doc.download.url);
  } catch (error) {
    throw networkError(`downloading ${doc.name}`, error);
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw new CliError(
      `downloading ${doc.name}: object storage answered ${response.status}`,
      response.status >= 500 ? ExitCode.UNAVAILABLE : ExitCode.FAILED,
    );
  }
  let bytes = 0;
  const source = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
  source.on('data', (chunk: Buffer) => (bytes += chunk.length));
  if (path === '-') {
    await pipeline(source, stdout ?? process.stdout, { end: false });
    return { doc: withoutUrls(doc), path, bytes };
  }
  const partial = `${path}.partial-${process.pid}`;
  try {
    await pipeline(source, createWriteStream(partial));
    renameSync(partial, path);
  } catch (error) {
    rmSync(partial, { force: true });
    if (FILE_ERRORS.has((error as NodeJS.ErrnoException).code ?? ''))
      throw new CliError(`writing ${path}: ${(error as Error).message}`, ExitCode.FAILED);
    throw networkError(`downloading ${doc.name}`, error);
  }
  return { doc: withoutUrls(doc), path, bytes };
}

const FILE_ERRORS = new Set(['EACCES', 'EPERM', 'ENOENT', 'ENOTDIR', 'EISDIR', 'ENOSPC', 'EROFS', 'EDQUOT']);

function firstLine(text: string): string {
  return text.split('\n', 1)[0]!.slice(0, 200);
}
