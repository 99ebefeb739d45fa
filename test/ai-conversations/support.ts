/** What the AI conversation tests share: an AI agent of a session's tenant. */
import { expect } from 'chai';
import type { TestSession } from '../support/session.js';

/** Creates an active retrieval AI agent through the API; answers its id. */
export async function createAiAgent(s: TestSession, name: string, fields: Record<string, unknown> = {}): Promise<string> {
  const res = await s.call('POST', '/api/ai-agents', { body: { name, ...fields } });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return res.body.id as string;
}
