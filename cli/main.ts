/**
 * `npx spool <command>`: upload, follow, list and delete videos through the HTTP API, of the
 * local stack (`npm start`) or a deployed one. Progress goes to stderr and results to stdout,
 * so `--json` output can be piped; the exit code says how it ended (EXIT, below).
 */
import { stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { Presets, SingleBar } from 'cli-progress';
import { Command, CommanderError, Option } from 'commander';
import type { VideoView } from '../functions/core/state.js';
import { ApiError, putFile, SpoolClient } from './client.js';
import { uploadInParts } from './multipart.js';
import { resolveTarget, type TargetOptions, UsageError } from './target.js';

/** Exit codes scripts can rely on (also in `spool --help`). */
export const EXIT = {
  ok: 0,
  /** The video ended `failed` (upload, watch). */
  videoFailed: 1,
  /** Bad arguments or no API URL/token. */
  usage: 2,
  /** No such video. */
  notFound: 3,
  /** The API refused the token (401/403). */
  refused: 4,
  /** The API could not be reached or answered with an error. */
  apiError: 5,
  /** `--timeout` ran out before the video was ready. */
  timedOut: 6,
} as const;

const EXIT_HELP = `
Exit codes: 0 done; 1 the video failed; 2 usage (bad arguments, no API URL or token);
3 no such video; 4 token refused; 5 API unreachable or in error; 6 --timeout ran out.
The API URL comes from --api, SPOOL_API_URL or the data dir of \`npm start\` (.spool);
the token from --token, SPOOL_API_TOKEN or the same data dir.`;

/** Media types by extension; the API probes the bytes anyway, this only labels them. */
const TYPES: Record<string, string> = {
  '.mp4': 'video/mp4',
  '.m4v': 'video/mp4',
  '.mov': 'video/quicktime',
  '.mkv': 'video/x-matroska',
  '.webm': 'video/webm',
  '.avi': 'video/x-msvideo',
  '.ts': 'video/mp2t',
  '.mts': 'video/mp2t',
  '.mxf': 'application/mxf',
};

interface Globals extends TargetOptions {
  json?: boolean;
}

const isTty = () => process.stderr.isTTY === true;

function bar(format: string): SingleBar {
  return new SingleBar(
    {
      format,
      stream: process.stderr,
      hideCursor: isTty(),
      // Without a terminal (CI, a pipe) a line every second instead of a redrawn bar.
      noTTYOutput: true,
      notTTYSchedule: 1000,
    },
    Presets.shades_classic,
  );
}

function printView(v: VideoView, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(v)}\n`);
    return;
  }
  const lines = [
    `${v.id}  ${v.status}  ${Math.round(v.progress * 100)}%`,
    ...(v.duration !== undefined ? [`  duration  ${v.duration.toFixed(1)} s`] : []),
    ...(v.playbackUrl ? [`  playback  ${v.playbackUrl}`] : []),
    ...(v.posterUrl ? [`  poster    ${v.posterUrl}`] : []),
    ...(v.renditions?.length
      ? [`  renditions ${v.renditions.map((r) => `${r.height}p`).join(' ')}`]
      : []),
    ...(v.error ? [`  error     ${v.error.code}: ${v.error.message}`] : []),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll until `ready` or `failed` (or `until` says stop), with a processing bar. */
export async function follow(
  client: SpoolClient,
  id: string,
  opts: { timeoutSeconds: number; quiet: boolean; pollMs?: number },
): Promise<VideoView | 'timeout'> {
  const progress = opts.quiet ? undefined : bar('processing  {bar} {percentage}% | {status}');
  progress?.start(100, 0, { status: 'uploaded' });
  const deadline = Date.now() + opts.timeoutSeconds * 1000;
  let announced = false;
  try {
    for (;;) {
      const v = await client.getVideo(id).catch((err: unknown) => {
        // A dropped connection or a 5xx mid-watch is not the video's answer: poll again.
        const transient = err instanceof ApiError && (err.status === 0 || err.status >= 500);
        if (!transient || Date.now() > deadline) throw err;
        progress?.update({ status: `retrying (${(err as Error).message})` });
        return undefined;
      });
      if (!v) {
        await sleep(opts.pollMs ?? 1000);
        continue;
      }
      const status = v.playable && v.status === 'processing' ? 'playable' : v.status;
      progress?.update(Math.round(v.progress * 100), { status });
      if (v.playable && !announced && v.playbackUrl && !opts.quiet) {
        // A player can start now; the playlist grows until ready.
        process.stderr.write(`${isTty() ? '\n' : ''}playable: ${v.playbackUrl}\n`);
        announced = true;
      }
      if (v.status === 'ready' || v.status === 'failed') return v;
      if (Date.now() > deadline) return 'timeout';
      await sleep(opts.pollMs ?? 1000);
    }
  } finally {
    progress?.stop();
  }
}

function exitFor(v: VideoView | 'timeout'): number {
  if (v === 'timeout') return EXIT.timedOut;
  return v.status === 'failed' ? EXIT.videoFailed : EXIT.ok;
}

export function program(): Command {
  const cli = new Command('spool')
    .description('Upload videos to Spool and follow them to HLS playback.')
    .addOption(new Option('--api <url>', 'API base URL').env('SPOOL_API_URL'))
    .addOption(new Option('--token <token>', 'API token').env('SPOOL_API_TOKEN'))
    .addOption(
      new Option('--data-dir <dir>', 'data dir of `npm start`, for its URL and token (.spool)').env(
        'SPOOL_DATA_DIR',
      ),
    )
    .option('--json', 'print JSON on stdout for scripts, and no progress')
    .addHelpText('after', EXIT_HELP)
    .showHelpAfterError()
    .exitOverride();
  const globals = () => cli.opts<Globals>();
  const client = async () => new SpoolClient(await resolveTarget(globals()));
  const timeout = new Option('--timeout <seconds>', 'give up waiting after this long')
    .default(3600)
    .argParser((s) => {
      const n = Number(s);
      if (!(n > 0)) throw new UsageError(`--timeout: not a positive number: ${s}`);
      return n;
    });

  cli
    .command('upload')
    .description('upload a video file, follow its processing, print its playback URL')
    .argument('<file>', 'the video file')
    .option('--no-wait', 'return once the upload is done, without following the processing')
    .option(
      '--resume <id>',
      'finish the upload in parts of this video, cut short before: only the parts missing are sent',
    )
    .addOption(timeout)
    .addHelpText('after', EXIT_HELP)
    .action(async (file: string, o: { wait: boolean; timeout: number; resume?: string }) => {
      const json = globals().json === true;
      const info = await stat(file).catch(() => undefined);
      if (!info?.isFile()) throw new UsageError(`${file}: no such file`);
      if (info.size === 0) throw new UsageError(`${file}: empty`);
      const api = await client();
      const created = o.resume
        ? undefined
        : await api.createVideo({
            filename: basename(file),
            contentType: TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
            size: info.size,
          });
      const id = o.resume ?? created?.id ?? '';
      if (!json) process.stderr.write(`video ${id}\n`);
      const sending = json ? undefined : bar('upload      {bar} {percentage}% | {mb} MB');
      const mb = (n: number) => (n / 2 ** 20).toFixed(1);
      const onBytes = (n: number) => sending?.update(n, { mb: `${mb(n)}/${mb(info.size)}` });
      sending?.start(info.size, 0, { mb: `0/${mb(info.size)}` });
      try {
        if (created?.upload) {
          await putFile(created.upload, file, info.size, onBytes);
        } else {
          // Above the API's multipart threshold (or resumed): in parts.
          const onResume = (have: number, partCount: number) => {
            if (have > 0 && !json) {
              process.stderr.write(`resuming: ${have} of ${partCount} parts are there already\n`);
            }
          };
          await uploadInParts(api, id, file, info.size, onBytes, { onResume }).catch((err) => {
            sending?.stop();
            process.stderr.write(
              `the upload stopped; the parts sent are kept for days: spool upload ${file} --resume ${id}\n`,
            );
            throw err;
          });
        }
      } finally {
        sending?.stop();
      }
      if (!o.wait) {
        const v = await api.getVideo(id);
        printView(v, json);
        return;
      }
      const end = await follow(api, id, { timeoutSeconds: o.timeout, quiet: json });
      const v = end === 'timeout' ? await api.getVideo(id) : end;
      if (json) printView(v, true);
      else if (v.status === 'ready' && v.playbackUrl) process.stdout.write(`${v.playbackUrl}\n`);
      else printView(v, false);
      process.exitCode = exitFor(end);
    });

  cli
    .command('status')
    .description("print a video's status, progress and URLs")
    .argument('<id>', 'video id')
    .addHelpText('after', EXIT_HELP)
    .action(async (id: string) => {
      printView(await (await client()).getVideo(id), globals().json === true);
    });

  cli
    .command('watch')
    .description('follow a video until it is ready or failed')
    .argument('<id>', 'video id')
    .addOption(timeout)
    .addHelpText('after', EXIT_HELP)
    .action(async (id: string, o: { timeout: number }) => {
      const json = globals().json === true;
      const api = await client();
      const end = await follow(api, id, { timeoutSeconds: o.timeout, quiet: json });
      printView(end === 'timeout' ? await api.getVideo(id) : end, json);
      process.exitCode = exitFor(end);
    });

  cli
    .command('list')
    .description('list videos, newest first')
    .addOption(
      new Option('--limit <n>', 'at most this many').default(20).argParser((s) => {
        const n = Number(s);
        if (!Number.isInteger(n) || n < 1) throw new UsageError(`--limit: not a count: ${s}`);
        return n;
      }),
    )
    .addHelpText('after', EXIT_HELP)
    .action(async (o: { limit: number }) => {
      const api = await client();
      const items: VideoView[] = [];
      let cursor: string | undefined;
      do {
        const page = await api.listVideos({ limit: Math.min(100, o.limit - items.length), cursor });
        items.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor && items.length < o.limit);
      if (globals().json) {
        process.stdout.write(`${JSON.stringify(items)}\n`);
        return;
      }
      for (const v of items) {
        const duration = v.duration !== undefined ? `${v.duration.toFixed(1)} s` : '-';
        process.stdout.write(
          `${v.id}  ${v.status.padEnd(10)} ${String(Math.round(v.progress * 100)).padStart(3)}%  ${duration.padStart(9)}  ${v.createdAt}\n`,
        );
      }
    });

  cli
    .command('delete')
    .description('delete a video: its upload, its outputs and its state')
    .argument('<id>', 'video id')
    .addHelpText('after', EXIT_HELP)
    .action(async (id: string) => {
      await (await client()).deleteVideo(id);
      if (globals().json) process.stdout.write(`${JSON.stringify({ id, deleted: true })}\n`);
      else process.stdout.write(`deleted ${id}\n`);
    });

  return cli;
}

/** Run with `argv`; resolves to the exit code. */
export async function run(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv, { from: 'user' });
    return Number(process.exitCode ?? EXIT.ok);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const say = (m: string) => process.stderr.write(`spool: ${m}\n`);
    if (err instanceof UsageError) {
      say(err.message);
      return EXIT.usage;
    }
    if (err instanceof ApiError) {
      say(`${err.code}: ${err.message}`);
      if (err.status === 404) return EXIT.notFound;
      if (err.status === 401 || err.status === 403) return EXIT.refused;
      return EXIT.apiError;
    }
    say(err instanceof Error ? err.message : String(err));
    return EXIT.apiError;
  }
}
