/**
 * `npm start`: the whole pipeline on one machine. The Lambda handler modules in functions/
 * run unchanged against local stand-ins that speak the AWS protocols: s3rver for S3,
 * local-aws-sqs for SQS, a CloudFront-like static server, and an API Gateway-like server.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hostEngine } from '../engine/engine.js';
import { LOCAL_FILES } from './data-dir.js';
import { startLocalStack } from './stack.js';

// Assembled on the first start after a clone (engine/README.md): say which engine runs.
const engine = hostEngine();

const stack = await startLocalStack({
  port: Number(process.env.PORT ?? 3000),
  dataDir: process.env.SPOOL_DATA_DIR ?? '.spool',
  token: process.env.SPOOL_API_TOKEN,
  workers: process.env.SPOOL_WORKERS ? Number(process.env.SPOOL_WORKERS) : undefined,
});

// `npx spool` finds this stack through its data dir (cli/target.ts).
await writeFile(join(stack.dataDir, LOCAL_FILES.api), `${stack.baseUrl}\n`);

console.log(`Spool ready at ${stack.baseUrl}`);
console.log(
  `  API token:  ${stack.token}${stack.tokenGenerated ? ' (generated; set SPOOL_API_TOKEN to choose one)' : ''}`,
);
console.log(
  `  playback:   ${stack.playbackUrl}${stack.signedPlayback ? ' (signed URLs only: the API hands them out)' : ''}`,
);
console.log(`  data:       ${stack.dataDir}`);
console.log(`  engine:     ${engine.describe}`);
console.log(`  s3:         ${stack.s3Endpoint} (buckets spool-uploads, spool-output)`);
console.log(`  sqs:        ${stack.sqsEndpoint} (queues spool-jobs, spool-publish.fifo, …)`);
console.log(
  `  webhooks:   ${stack.webhookUrls.length > 0 ? stack.webhookUrls.join(', ') : 'none (SPOOL_WEBHOOK_URLS=\'["http://localhost:8080/hook"]\')'}`,
);
console.log(`  signed with ${stack.webhookSecret} (spool-signature header; SPOOL_WEBHOOK_SECRET)`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void stack.close().finally(() => process.exit(0));
  });
}
