/** The logger never writes a credential field, wherever it sits in a logged object. */
import { Writable } from 'node:stream';
import { expect } from 'chai';
import { pino } from 'pino';
import { LOGGER_OPTIONS } from '../../src/logger.js';

describe('the logger', () => {
  it('redacts credential fields at any of the first levels of a logged object', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    const log = pino(LOGGER_OPTIONS, sink);
    log.warn(
      {
        access_token: 'EAAG-top',
        account: { app_secret: 'app-secret-1', name: 'Toko' },
        err: { config: { headers: { authorization: 'Bearer EAAG-deep', accept: 'json' } } },
        body: { password: 'rahasia', pin: '123456', email: 'a@b.test' },
      },
      'a send failed',
    );
    const text = lines.join('');
    for (const secret of ['EAAG-top', 'app-secret-1', 'EAAG-deep', 'rahasia', '123456']) expect(text).to.not.include(secret);
    const line = JSON.parse(text) as { account: { name: string }; err: { config: { headers: { accept: string; authorization: string } } }; body: { email: string } };
    expect(line.account.name).to.equal('Toko');
    expect(line.err.config.headers.accept).to.equal('json');
    expect(line.err.config.headers.authorization).to.equal('[redacted]');
    expect(line.body.email).to.equal('a@b.test');
  });
});
