// Uploads use XMLHttpRequest: fetch has no upload progress events.
import { ApiError, errorFor, UNREACHABLE, type UploadResponse } from './client';
import { authHeaders, refreshAfter401 } from './auth';

interface Sent {
  status: number;
  response: unknown;
}

function send(
  file: File,
  headers: Record<string, string>,
  onProgress: (loaded: number, total: number) => void,
  signal?: AbortSignal,
): Promise<Sent> {
  return new Promise<Sent>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/upload');
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    xhr.responseType = 'json';
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onload = () => resolve({ status: xhr.status, response: xhr.response });
    xhr.onerror = () => reject(new ApiError(UNREACHABLE, null));
    xhr.onabort = () => reject(new ApiError('Upload cancelled.', 0));
    signal?.addEventListener('abort', () => xhr.abort());
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  });
}

export async function uploadFile(
  file: File,
  onProgress: (loaded: number, total: number) => void,
  signal?: AbortSignal,
): Promise<UploadResponse> {
  let result = await send(file, await authHeaders(), onProgress, signal);
  if (result.status === 401) {
    // The token was refused (expired in flight, revoked): refresh and send once more.
    const fresh = await refreshAfter401();
    if (fresh) result = await send(file, { Authorization: `Bearer ${fresh}` }, onProgress, signal);
  }
  const { status, response } = result;
  if (status >= 200 && status < 300) return response as UploadResponse;
  if (status === 413 && !response) throw new ApiError(`${file.name} is too large for the server.`, 413);
  throw errorFor(response, status);
}
