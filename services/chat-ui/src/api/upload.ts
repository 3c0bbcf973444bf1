// Uploads use XMLHttpRequest: fetch has no upload progress events.
import { ApiError, errorFor, UNREACHABLE, type UploadResponse } from './client';
import { authHeaders } from './auth';

export function uploadFile(
  file: File,
  onProgress: (loaded: number, total: number) => void,
  signal?: AbortSignal,
): Promise<UploadResponse> {
  return authHeaders().then(
    (headers) =>
      new Promise<UploadResponse>((resolve, reject) => {
        const xhr = new XMLHttpRequest();
        xhr.open('POST', '/api/upload');
        for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
        xhr.responseType = 'json';
        xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
        xhr.onload = () => {
          if (xhr.status >= 200 && xhr.status < 300) resolve(xhr.response as UploadResponse);
          else if (xhr.status === 413 && !xhr.response)
            reject(new ApiError(`${file.name} is too large for the server.`, 413));
          else reject(errorFor(xhr.response, xhr.status));
        };
        xhr.onerror = () => reject(new ApiError(UNREACHABLE, null));
        xhr.onabort = () => reject(new ApiError('Upload cancelled.', 0));
        signal?.addEventListener('abort', () => xhr.abort());
        const form = new FormData();
        form.append('file', file, file.name);
        xhr.send(form);
      }),
  );
}
