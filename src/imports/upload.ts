/**
 * The uploaded spreadsheet's bytes and type, whatever way it came: the file itself as the body
 * (.xlsx or text/csv, read by the content-type parser in routes.ts), or a multipart/form-data form
 * read by @fastify/multipart (its field "file", else the first part with a filename).
 *
 * Multipart bodies bypass Fastify's bodyLimit (the form is streamed), so the form's own limits bound
 * it instead: one file of at most IMPORT_MAX_BYTES kept, a few small fields and parts.
 */
import type { MultipartFile } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { DomainError, TooLargeError, UnsupportedTypeError, invalid } from '../shared/errors.js';
import type { Upload } from './parse.js';
import { XLSX_TYPE } from './parse.js';

/** Largest spreadsheet accepted (the rest of the API keeps BODY_LIMIT_BYTES). */
export const IMPORT_MAX_BYTES = 10 * 1024 * 1024;

/** @fastify/multipart's options for the import form. */
export const IMPORT_FORM_LIMITS = {
  fileSize: IMPORT_MAX_BYTES,
  files: 4,
  fields: 16,
  fieldSize: 64 * 1024,
  parts: 20,
  headerPairs: 100,
};

const tooLarge = () =>
  new TooLargeError(`The file is larger than the limit of this endpoint (${IMPORT_MAX_BYTES} bytes).`);

/** @fastify/multipart's and busboy's errors as domain errors: too large past a limit, invalid for a malformed form. */
function formProblem(error: unknown): unknown {
  if (error instanceof DomainError || !(error instanceof Error)) return error;
  const code = (error as Error & { code?: string }).code ?? '';
  if (code === 'FST_REQ_FILE_TOO_LARGE') return tooLarge();
  if (['FST_FILES_LIMIT', 'FST_PARTS_LIMIT', 'FST_FIELDS_LIMIT'].includes(code)) {
    return new TooLargeError(`The form has too many parts: send one file field named "file" (${error.message}).`);
  }
  const detail = `The multipart/form-data body is malformed: ${error.message}.`;
  return invalid(detail, [{ path: 'body', message: 'malformed multipart body' }]);
}

async function formFile(request: FastifyRequest): Promise<{ part: MultipartFile; bytes: Buffer } | undefined> {
  let chosen: { part: MultipartFile; bytes: Buffer } | undefined;
  for await (const part of request.parts()) {
    if (part.type !== 'file') continue;
    // Every file stream must be read to its end for the form to go on; only the chosen one is kept.
    const wanted = !chosen || (chosen.part.fieldname !== 'file' && part.fieldname === 'file');
    if (wanted) chosen = { part, bytes: await part.toBuffer() };
    else part.file.resume();
  }
  return chosen;
}

export async function receiveUpload(request: FastifyRequest): Promise<Upload> {
  const contentType = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (contentType !== 'multipart/form-data') {
    if (!Buffer.isBuffer(request.body)) {
      throw new UnsupportedTypeError(
        `Send the spreadsheet as ${XLSX_TYPE}, text/csv or multipart/form-data (field "file").`,
      );
    }
    return { bytes: request.body, type: contentType };
  }
  let file: Awaited<ReturnType<typeof formFile>>;
  try {
    file = await formFile(request);
  } catch (error) {
    throw formProblem(error);
  }
  if (!file) {
    const message = 'required: the spreadsheet as a file field named "file"';
    throw invalid('The form has no file field.', [{ path: 'body.file', message }]);
  }
  const { filename, mimetype } = file.part;
  const type =
    filename.toLowerCase().endsWith('.csv') || mimetype.toLowerCase() === 'text/csv' ? 'text/csv' : XLSX_TYPE;
  return { bytes: file.bytes, type };
}
