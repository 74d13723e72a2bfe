import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { ImageError } from '../images/errors';
import { authorizedRequest, type RegistryCredentials } from './manifest';
import { apiBase } from './reference';

/** A blob to upload: its digest (`sha256:...`), size, and where its bytes are (a file) or the bytes themselves. */
export interface Blob {
  digest: string;
  size: number;
  file?: string;
  bytes?: Buffer;
}

/**
 * Pushes blobs and a manifest through the registry's v2 API (monolithic uploads), asking first
 * whether each is there: content-addressed, so what the registry has is never sent again.
 */
export class RegistryWriter {
  private authorization?: string;
  private readonly base: string;

  constructor(
    host: string,
    private readonly repository: string,
    private readonly credentials?: RegistryCredentials,
    private readonly signal?: AbortSignal,
  ) {
    this.base = `${apiBase(host)}/v2/${repository}`;
  }

  /** True when the registry has the manifest of this tag or digest. */
  async hasManifest(reference: string, accept: string): Promise<boolean> {
    const response = await this.send(`${this.base}/manifests/${reference}`, { method: 'HEAD', headers: { Accept: accept } });
    return response.status === 200;
  }

  /** Uploads the blob unless the registry has it; true when bytes went out. */
  async putBlob(blob: Blob): Promise<boolean> {
    const head = await this.send(`${this.base}/blobs/${blob.digest}`, { method: 'HEAD', headers: {} });
    if (head.status === 200) return false;
    const started = await this.send(`${this.base}/blobs/uploads/`, { method: 'POST', headers: { 'Content-Length': '0' } });
    const location = started.headers.get('location');
    if (started.status !== 202 || !location) throw this.failure('starting an upload', started);
    const url = new URL(location, this.base);
    url.searchParams.set('digest', blob.digest);
    const body = blob.bytes ?? (Readable.toWeb(createReadStream(blob.file!)) as ReadableStream);
    const put = await this.send(url.toString(), {
      method: 'PUT',
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(blob.size) },
      body,
      duplex: 'half',
    } as RequestInit & { headers: Record<string, string> });
    if (put.status !== 201) throw this.failure(`uploading ${blob.digest}`, put);
    return true;
  }

  /**
   * Deletes the manifest of a digest (the v2 API's DELETE); true when it is gone. A registry that
   * does not allow deletion (distribution without storage.delete.enabled answers 405; GHCR and
   * Docker Hub take deletions through their own APIs only) answers false, and keeps it.
   */
  async deleteManifest(digest: string): Promise<boolean> {
    const response = await this.send(`${this.base}/manifests/${digest}`, { method: 'DELETE', headers: {} }).catch(() => undefined);
    return response?.status === 202 || response?.status === 404;
  }

  async putManifest(reference: string, mediaType: string, manifest: Buffer): Promise<void> {
    const response = await this.send(`${this.base}/manifests/${reference}`, { method: 'PUT', headers: { 'Content-Type': mediaType }, body: manifest });
    if (response.status !== 201) throw this.failure(`storing the manifest ${reference}`, response);
  }

  private async send(url: string, init: RequestInit & { headers: Record<string, string> }): Promise<Response> {
    const ask = (authorization?: string) =>
      authorizedRequest(url, { ...init, signal: this.signal }, { repository: this.repository, credentials: this.credentials, image: this.repository, authorization });
    let { response, authorization } = await ask(this.authorization);
    // A token for pulling (from an earlier HEAD) does not let us push: answer the new challenge once.
    // A streamed body is never sent twice; the POST before it has the push token already.
    if (response.status === 401 && this.authorization && !(init.body instanceof ReadableStream)) ({ response, authorization } = await ask());
    this.authorization = authorization;
    if (response.status === 401 || response.status === 403) {
      throw new ImageError('RegistryAuthFailed', 'registry', `the registry refused to store ${this.repository} (HTTP ${response.status})`, {
        retry: 'bad-input',
        description: 'Check the registry username and password (or token) and that they may push to this repository.',
      });
    }
    return response;
  }

  private failure(what: string, response: Response): ImageError {
    return new ImageError('PushFailed', 'registry', `${what} of ${this.repository} failed: HTTP ${response.status}`, { retry: 'transient' });
  }
}
