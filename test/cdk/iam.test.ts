import { afterAll, describe, expect, it } from 'vitest';
import type { SpoolFunction } from '../../lib/spool-function.js';
import { logicalId, propertiesOf, synthesizeSpool } from './support/spool-app.js';

const spool = synthesizeSpool();
const { template, stack } = spool;
const { pipeline } = stack;
afterAll(() => spool.dispose());

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

const names: Record<string, string> = {
  [logicalId(pipeline.storage.uploadsBucket)]: 'uploads',
  [logicalId(pipeline.storage.outputBucket)]: 'output',
};

/** A resource as a reader would write it: `uploads/state/*\/failed.json`, `uploads` (bucket). */
function readable(resource: unknown): string {
  const r = resource as Record<string, unknown>;
  const getAtt = r['Fn::GetAtt'] as [string, string] | undefined;
  if (getAtt) return names[getAtt[0]] ?? `${getAtt[0]}.${getAtt[1]}`;
  const join = r['Fn::Join'] as [string, unknown[]] | undefined;
  if (join) return join[1].map((p) => (typeof p === 'string' ? p : readable(p))).join('');
  return JSON.stringify(resource);
}

/** Every action of a function's role starting with `service`, with its resources. */
function access(fn: SpoolFunction, service: string): Record<string, string[]> {
  const roleId = logicalId(fn.role?.node.defaultChild ?? fn);
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
    (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId),
  );
  const granted: Record<string, string[]> = {};
  for (const policy of policies) {
    for (const st of policy.Properties.PolicyDocument.Statement as Statement[]) {
      const actions = [st.Action].flat().filter((a) => a.startsWith(service));
      const resources = [st.Resource].flat().map(readable);
      for (const action of actions) {
        granted[action] = [...(granted[action] ?? []), ...resources].sort();
      }
    }
  }
  return granted;
}

/** Every S3 action of a function's role, with the resources each is allowed on. */
const s3Access = (fn: SpoolFunction) => access(fn, 's3:');

/** What deleting a video removes: below its prefixes in both buckets, never a tombstone. */
const VIDEO_REMOVAL = [
  'output/videos/*/*',
  'uploads/index/*',
  'uploads/state/*/*',
  'uploads/uploads/*/*',
];

describe('least privilege', () => {
  const deleters = new Set(['upload', 'purge']);

  it.each(Object.entries(pipeline.functions).filter(([stage]) => !deleters.has(stage)))(
    '%s can delete nothing',
    (_stage, fn) => {
      const actions = Object.keys(s3Access(fn));
      expect(actions.filter((a) => /Delete|Abort|Retention|LegalHold|Acl|\*/.test(a))).toEqual([]);
      expect(
        actions.every((a) => ['s3:GetObject', 's3:PutObject', 's3:ListBucket'].includes(a)),
      ).toBe(true);
    },
  );

  it.each([...deleters])("%s deletes only below a video's prefixes, and no tombstone", (stage) => {
    const fn = pipeline.functions[stage as 'upload' | 'purge'];
    const actions = Object.keys(s3Access(fn));
    expect(actions.filter((a) => /Retention|LegalHold|Acl|Version|\*/.test(a))).toEqual([]);
    expect(s3Access(fn)['s3:DeleteObject']).toEqual(VIDEO_REMOVAL);
    expect(s3Access(fn)['s3:ListBucket']).toEqual(['output', 'uploads']);
  });

  it('only the API writes tombstones, so a purge request cannot remove a live video', () => {
    const writers = Object.entries(pipeline.functions)
      .filter(([, fn]) => s3Access(fn)['s3:PutObject']?.includes('uploads/deleted/*'))
      .map(([stage]) => stage);
    expect(writers).toEqual(['upload']);
  });

  it('every function that writes for a video can read its tombstone', () => {
    const blind = Object.entries(pipeline.functions)
      .filter(([, fn]) => (s3Access(fn)['s3:PutObject'] ?? []).some((r) => /\/\*\//.test(r)))
      .filter(([, fn]) => !s3Access(fn)['s3:GetObject']?.includes('uploads/deleted/*'))
      .map(([stage]) => stage);
    expect(blind).toEqual([]);
  });

  it('only the API and the purge function invalidate, and only the distribution', () => {
    const distribution = logicalId(pipeline.delivery.distribution);
    const invalidators = Object.entries(pipeline.functions).filter(
      ([, fn]) => access(fn, 'cloudfront:')['cloudfront:CreateInvalidation'],
    );
    expect(invalidators.map(([stage]) => stage).sort()).toEqual(['purge', 'upload']);
    for (const [, fn] of invalidators) {
      expect(access(fn, 'cloudfront:')).toEqual({
        'cloudfront:CreateInvalidation': [
          expect.stringContaining(`:distribution/{"Ref":"${distribution}"}`),
        ],
      });
    }
  });

  it('tells only the API and the purge function which distribution to invalidate', () => {
    const told = Object.entries(pipeline.functions)
      .filter(([, fn]) => {
        const env = propertiesOf(template, fn).Environment as
          | { Variables?: Record<string, unknown> }
          | undefined;
        return env?.Variables?.CDN_DISTRIBUTION_ID !== undefined;
      })
      .map(([stage]) => stage)
      .sort();
    expect(told).toEqual(['purge', 'upload']);
    expect(propertiesOf(template, pipeline.purge.handler)).toMatchObject({
      Environment: {
        Variables: expect.objectContaining({
          CDN_DISTRIBUTION_ID: { Ref: logicalId(pipeline.delivery.distribution) },
        }),
      },
    });
  });

  it('the purge function reads tombstones and deletes, and reads or writes nothing else', () => {
    expect(s3Access(pipeline.purge.handler)).toEqual({
      's3:GetObject': ['uploads/deleted/*'],
      's3:DeleteObject': VIDEO_REMOVAL,
      's3:ListBucket': ['output', 'uploads'],
    });
  });

  it('transcode reads sources and records, and writes only its records and segments', () => {
    expect(s3Access(pipeline.transcode.handler)).toEqual({
      's3:GetObject': ['uploads/deleted/*', 'uploads/state/*/*', 'uploads/uploads/*/source'],
      's3:PutObject': [
        'output/videos/*/*/*.ts',
        'output/videos/*/poster.jpg',
        'output/videos/*/poster.webp',
        'output/videos/*/storyboard/*.jpg',
        'uploads/state/*/chunks/*',
        'uploads/state/*/failed.json',
      ],
      's3:ListBucket': ['uploads'],
    });
  });

  it('the API writes sources (the presigned PUTs and parts), its records, the index and tombstones', () => {
    expect(s3Access(pipeline.uploadApi.handler)).toEqual({
      's3:GetObject': ['uploads/deleted/*', 'uploads/state/*/*', 'uploads/uploads/*/source'],
      's3:PutObject': [
        'uploads/deleted/*',
        'uploads/index/*',
        'uploads/state/*/multipart.json',
        'uploads/state/*/video.json',
        'uploads/uploads/*/captions/*',
        'uploads/uploads/*/source',
      ],
      's3:DeleteObject': VIDEO_REMOVAL,
      's3:ListBucket': ['output', 'uploads'],
      // ListParts of a source's multipart upload, and of nothing else.
      's3:ListMultipartUploadParts': ['uploads/uploads/*/source'],
      // DELETE aborts a source's multipart upload, and nothing else.
      's3:AbortMultipartUpload': ['uploads/uploads/*/source'],
    });
  });

  it('only the API may list the parts of a multipart upload', () => {
    const listers = Object.entries(pipeline.functions)
      .filter(([, fn]) => 's3:ListMultipartUploadParts' in s3Access(fn))
      .map(([stage]) => stage);
    expect(listers).toEqual(['upload']);
  });

  it('only the API may abort a multipart upload', () => {
    const aborters = Object.entries(pipeline.functions)
      .filter(([, fn]) => 's3:AbortMultipartUpload' in s3Access(fn))
      .map(([stage]) => stage);
    expect(aborters).toEqual(['upload']);
  });

  it('ingest writes the plan, the enqueued mark, a failure, and the opening and its publish', () => {
    expect(s3Access(pipeline.ingest.handler)).toMatchObject({
      's3:PutObject': [
        'output/videos/*/*',
        'uploads/state/*/chunks/00000.json',
        'uploads/state/*/enqueued.json',
        'uploads/state/*/failed.json',
        'uploads/state/*/plan.json',
        'uploads/state/*/playable.json',
        'uploads/state/*/ready.json',
      ],
    });
  });

  it('publish writes the playlists and the playable, ready or failed record', () => {
    expect(s3Access(pipeline.publish.handler)).toEqual({
      's3:GetObject': ['uploads/deleted/*', 'uploads/state/*/*', 'uploads/uploads/*/captions/*'],
      's3:PutObject': [
        'output/videos/*/*',
        'uploads/state/*/failed.json',
        'uploads/state/*/playable.json',
        'uploads/state/*/ready.json',
      ],
      's3:ListBucket': ['uploads'],
    });
  });

  it('the failures function and the sweeper write only their records', () => {
    expect(s3Access(pipeline.monitoring.failuresHandler)['s3:PutObject']).toEqual([
      'uploads/state/*/failed.json',
    ]);
    expect(s3Access(pipeline.sweeper.handler)['s3:PutObject']).toEqual([
      'uploads/state/*/failed.json',
      'uploads/state/*/redriven.json',
    ]);
  });

  it('only the functions that hand work on may send to a queue', () => {
    const senders = Object.entries(pipeline.functions)
      .filter(([, fn]) => {
        const roleId = logicalId(fn.role?.node.defaultChild ?? fn);
        return Object.values(template.findResources('AWS::IAM::Policy')).some(
          (p) =>
            (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId) &&
            (p.Properties.PolicyDocument.Statement as Statement[]).some((s) =>
              [s.Action].flat().includes('sqs:SendMessage'),
            ),
        );
      })
      .map(([stage]) => stage)
      .sort();
    // Ingest and notify also send to the dead-letter queue of their S3 invocations; the API,
    // publish and failures functions send only purge requests.
    expect(senders).toEqual([
      'failures',
      'ingest',
      'notify',
      'publish',
      'sweeper',
      'transcode',
      'upload',
    ]);
  });

  it('every function that looks at tombstones may ask for a purge, and nothing else may', () => {
    const purgeQueue = logicalId(pipeline.purge.queue.queue);
    const askers = Object.entries(pipeline.functions)
      .filter(([, fn]) =>
        (access(fn, 'sqs:')['sqs:SendMessage'] ?? []).some((r) => r.includes(purgeQueue)),
      )
      .map(([stage]) => stage)
      .sort();
    expect(askers).toEqual(['failures', 'ingest', 'publish', 'sweeper', 'transcode', 'upload']);
  });
});
