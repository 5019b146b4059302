import { afterAll, describe, expect, it } from 'vitest';
import type { SpoolFunction } from '../../lib/spool-function.js';
import { logicalId, synthesizeSpool } from './support/spool-app.js';

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

/** Every S3 action of a function's role, with the resources each is allowed on. */
function s3Access(fn: SpoolFunction): Record<string, string[]> {
  const roleId = logicalId(fn.role?.node.defaultChild ?? fn);
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
    (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId),
  );
  const access: Record<string, string[]> = {};
  for (const policy of policies) {
    for (const st of policy.Properties.PolicyDocument.Statement as Statement[]) {
      const actions = [st.Action].flat().filter((a) => a.startsWith('s3:'));
      const resources = [st.Resource].flat().map(readable);
      for (const action of actions) {
        access[action] = [...(access[action] ?? []), ...resources].sort();
      }
    }
  }
  return access;
}

describe('least privilege', () => {
  it.each(Object.entries(pipeline.functions))('%s can delete nothing', (_stage, fn) => {
    const actions = Object.keys(s3Access(fn));
    expect(actions.filter((a) => /Delete|Abort|Retention|LegalHold|Acl|\*/.test(a))).toEqual([]);
    expect(
      actions.every((a) =>
        ['s3:GetObject', 's3:PutObject', 's3:ListBucket', 's3:ListMultipartUploadParts'].includes(
          a,
        ),
      ),
    ).toBe(true);
  });

  it('transcode reads sources and records, and writes only its records and segments', () => {
    expect(s3Access(pipeline.transcode.handler)).toEqual({
      's3:GetObject': ['uploads/state/*/*', 'uploads/uploads/*/source'],
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

  it('the API writes sources (the presigned PUTs and parts), its records and the index', () => {
    expect(s3Access(pipeline.uploadApi.handler)).toEqual({
      's3:GetObject': ['uploads/state/*/*', 'uploads/uploads/*/source'],
      's3:PutObject': [
        'uploads/index/*',
        'uploads/state/*/multipart.json',
        'uploads/state/*/video.json',
        'uploads/uploads/*/captions/*',
        'uploads/uploads/*/source',
      ],
      's3:ListBucket': ['uploads'],
      // ListParts of a source's multipart upload, and of nothing else.
      's3:ListMultipartUploadParts': ['uploads/uploads/*/source'],
    });
  });

  it('only the API may list the parts of a multipart upload', () => {
    const listers = Object.entries(pipeline.functions)
      .filter(([, fn]) => 's3:ListMultipartUploadParts' in s3Access(fn))
      .map(([stage]) => stage);
    expect(listers).toEqual(['upload']);
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
      's3:GetObject': ['uploads/state/*/*', 'uploads/uploads/*/captions/*'],
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

  it('only the workers that hand work on may send to a queue', () => {
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
    // Ingest and notify also send to the dead-letter queue of their S3 invocations.
    expect(senders).toEqual(['ingest', 'notify', 'sweeper', 'transcode']);
  });
});
