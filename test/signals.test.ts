/** lib/util/signals.ts: the first stop signal stops, a repeat of it is ignored, a later one quits. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { onStopSignals } from '../lib/util/signals';

test('a stop signal repeated within sameMs is the same one; a later one quits at once', () => {
  let t = 1000;
  const seen: string[] = [];
  const remove = onStopSignals({ onStop: (s) => seen.push(`stop ${s}`), onAgain: (s) => seen.push(`again ${s}`), sameMs: 500, now: () => t });
  try {
    process.emit('SIGINT', 'SIGINT');
    process.emit('SIGINT', 'SIGINT'); // forwarded by npm right after the terminal's
    t += 300;
    process.emit('SIGTERM', 'SIGTERM'); // a process-group kill relayed late, still the same stop
    assert.deepEqual(seen, ['stop SIGINT']);
    t += 400; // 700 ms after the first: a second press
    process.emit('SIGINT', 'SIGINT');
    assert.deepEqual(seen, ['stop SIGINT', 'again SIGINT']);
  } finally {
    remove();
  }
  assert.equal(process.listenerCount('SIGINT'), 0, 'remove() took the handlers away');
  assert.equal(process.listenerCount('SIGTERM'), 0);
});
