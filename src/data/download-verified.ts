/** Downloads a file held to its published SHA-256, looking once more when the publisher is mid-upload. */
import { IpMatchDataError } from '../geodata/errors.js';
import { type DownloadRequest, downloadToFile, type OnProgress } from './download.js';
import { redactUrl } from './redact.js';

/** What to download, and where each attempt goes. */
export interface FileDownload {
  request: DownloadRequest;
  /** A new temporary path in the data dir for each attempt; the caller removes them. */
  temp(): string;
  onProgress?: OnProgress | undefined;
}

/** The checksums a download is held to. */
export interface Expected {
  /** The SHA-256 the publisher gives for its file now; undefined when none is (`insecureNoChecksum`). */
  sha256: string | undefined;
  /** The SHA-256 the installed file was downloaded as, if any: that file is not downloaded again. */
  installed: string | undefined;
}

/** A downloaded file whose SHA-256 is the published one (or unchecked, when none is published). */
export interface Downloaded {
  path: string;
  sha256: string;
}

/**
 * Downloads the source's file and checks its SHA-256. The publisher replaces a file and its checksum seconds
 * apart, so a mismatch is not final: `refetch` reads the published checksum again (after a pause), and the
 * file is downloaded once more unless the first download already matches it. Resolves 'installed' when the
 * publisher's file is the installed one, before or after a download; rejects with `checksum_mismatch` when
 * the second download does not match either.
 */
export async function downloadVerified(
  file: FileDownload,
  expected: Expected,
  refetch: () => Promise<string | undefined>,
): Promise<Downloaded | 'installed'> {
  const isInstalled = (sha256: string | undefined) => sha256 !== undefined && sha256 === expected.installed;
  if (isInstalled(expected.sha256)) return 'installed';
  const download = async (): Promise<Downloaded> => {
    const path = file.temp();
    const { sha256 } = await downloadToFile(file.request, path, file.onProgress);
    return { path, sha256 };
  };
  let got = await download();
  if (expected.sha256 !== undefined && got.sha256 !== expected.sha256) {
    const again = await refetch();
    if (got.sha256 !== again) {
      if (isInstalled(again)) return 'installed';
      got = await download();
      if (got.sha256 !== again) {
        throw new IpMatchDataError(
          'checksum_mismatch',
          `${redactUrl(file.request.url)} has SHA-256 ${got.sha256}, but ${again} was expected, twice: ` +
            'not installed (the publisher may be mid-upload; try again later)',
        );
      }
    }
  }
  return isInstalled(got.sha256) ? 'installed' : got;
}
