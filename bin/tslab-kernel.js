#!/usr/bin/env node
// The project's tslab kernel: tslab 1.0.22 with two fixes to its Jupyter messaging, applied
// before the kernel binds its sockets (scripts/setup-kernel.sh registers this file as the
// kernel's binary). Usage, as Jupyter runs it: tslab-kernel.js kernel --config-path FILE [--js]
//
// 1. No lost output, no silent cell failures. tslab sends every message with a bare
//    `socket.send()` of zeromq 6, which completes synchronously only 512 times in a row; the
//    next send is deferred to the event loop's check phase and every further send before then
//    THROWS "Socket is busy writing". Node's console swallows errors of stream writes, so
//    console.log output vanished, and a `display` call threw into the cell, whose error message
//    (console.error) vanished as well: the cell got its number and no output, later cells were
//    aborted (issue 18's "silent stop"). Here a send that finds the socket busy is queued and
//    sent, in order, as soon as the pending one completes.
// 2. An honest busy/idle status. tslab publishes `busy` when an execute request ARRIVES and
//    `idle` when it finishes, so after Run All the indicator turned idle when the first cell
//    finished although the rest were still queued or running. Here `busy` is published again
//    when a queued cell STARTS, right after the previous cell's `idle` (what ipykernel does).
//
// test/kernel-messaging.test.ts checks both against the real kernel.
'use strict';
const path = require('path');

const tslabDir = path.dirname(require.resolve('tslab/package.json'));
const fromTslab = require('module').createRequire(path.join(tslabDir, 'dist', 'main.js'));
const { startKernel } = fromTslab('./main.js');
const jupyter = fromTslab('./jupyter.js');
const util = fromTslab('./util.js');

const warn = (what) => process.stderr.write(`tslab-kernel: ${what}; running tslab unpatched\n`);

/** Fix 1: queue sends that find the socket busy instead of throwing (all zeromq sockets). */
function queueBusySends() {
  const zmq = fromTslab('zeromq'); // the instance tslab's jupyter.js loads
  const proto = zmq.Socket && zmq.Socket.prototype;
  if (!proto || typeof proto.send !== 'function') return warn('zeromq has no Socket.prototype.send');
  const send = proto.send;
  const state = new WeakMap(); // socket -> { queue: [{ msg, resolve, reject }], last: Promise }
  const isBusy = (e) => e && e.code === 'EBUSY';
  // Retry after the pending send settles, and after a turn of the event loop (never a microtask spin).
  function later(sock, s) {
    Promise.allSettled([s.last]).then(() => setImmediate(() => drain(sock, s)));
  }
  function drain(sock, s) {
    while (s.queue.length) {
      const item = s.queue[0];
      let p;
      try {
        p = send.call(sock, item.msg);
      } catch (e) {
        if (isBusy(e)) return void later(sock, s);
        s.queue.shift();
        item.reject(e);
        continue;
      }
      s.queue.shift();
      s.last = p;
      p.then(item.resolve, item.reject);
    }
    state.delete(sock);
  }
  function queuedSend(msg, ...rest) {
    if (rest.length) return send.call(this, msg, ...rest); // routing options: not used by tslab
    const s = state.get(this);
    if (s && s.queue.length) {
      return new Promise((resolve, reject) => s.queue.push({ msg, resolve, reject }));
    }
    try {
      const p = send.call(this, msg);
      state.set(this, { queue: [], last: p });
      p.catch(() => {});
      return p;
    } catch (e) {
      if (!isBusy(e)) throw e;
      const st = s || { queue: [], last: Promise.resolve() };
      state.set(this, st);
      const p = new Promise((resolve, reject) => st.queue.push({ msg, resolve, reject }));
      later(this, st);
      return p;
    }
  }
  // The native method is configurable but not writable.
  Object.defineProperty(proto, 'send', { value: queuedSend, configurable: true, writable: true, enumerable: false });
}

/** Fix 2: publish `busy` when a queued execute request starts running. */
function busyWhenStarted() {
  const S = jupyter.ZmqServer && jupyter.ZmqServer.prototype;
  const H = jupyter.JupyterHandlerImpl && jupyter.JupyterHandlerImpl.prototype;
  if (!S || !H || typeof S.publishStatus !== 'function' || typeof H.handleExecuteImpl !== 'function' || !H.handleExecute || !S.handleExecute) {
    return warn('tslab/dist/jupyter.js is not the version this fix was written for');
  }
  // tslab 1.0.22's ZmqServer.handleExecute, with the start hook passed on.
  S.handleExecute = async function (sock, msg) {
    const reply = msg.createReply();
    reply.header.msg_type = 'execute_reply';
    const writeStream = (name, text) => {
      const r = msg.createReply();
      r.header.msg_type = 'stream';
      r.content = { name, text };
      r.signAndSend(this.connInfo.key, this.iopub);
    };
    const writeDisplayData = (data, update) => {
      const r = msg.createReply();
      r.header.msg_type = update ? 'update_display_data' : 'display_data';
      r.content = data;
      r.signAndSend(this.connInfo.key, this.iopub);
    };
    const onStart = () => this.publishStatus('busy', msg);
    reply.content = await this.handler.handleExecute(msg.content, writeStream, writeDisplayData, onStart);
    reply.signAndSend(this.connInfo.key, sock);
  };
  // tslab 1.0.22's JupyterHandlerImpl.handleExecute, calling onStart when the queued task runs.
  H.handleExecute = async function (req, writeStream, writeDisplayData, onStart) {
    let status = 'ok';
    let count = null;
    try {
      count = await this.execQueue.add(async () => {
        // One turn of the event loop first, so that the previous cell's execute_reply and idle
        // (sent in the microtasks after its task settled) go out before this busy.
        await new Promise((resolve) => setImmediate(resolve));
        if (onStart) onStart();
        return this.handleExecuteImpl(req, writeStream, writeDisplayData);
      });
    } catch (e) {
      if (e && typeof e.count === 'number' && !(e instanceof Error)) {
        status = 'error'; // tslab's ExecutionCount: the cell failed, its message is on stderr
        count = e;
      } else if (e instanceof util.TaskCanceledError) {
        status = 'abort';
      } else {
        status = 'error';
        console.error('unexpected error:', e);
      }
      if (status === 'error') this.execQueue.reset(200); // abort the cells queued behind it (tslab #19)
    }
    return { status, execution_count: count ? count.count : undefined };
  };
}

function parseArgs(argv) {
  const args = { configPath: '', jsKernel: false };
  if (argv[0] !== 'kernel') throw new Error('usage: tslab-kernel.js kernel --config-path FILE [--js]');
  for (let i = 1; i < argv.length; i++) {
    if (argv[i] === '--config-path') args.configPath = argv[++i];
    else if (argv[i].startsWith('--config-path=')) args.configPath = argv[i].slice('--config-path='.length);
    else if (argv[i] === '--js') args.jsKernel = true;
    else throw new Error(`tslab-kernel.js: unknown argument ${argv[i]}`);
  }
  return args;
}

const { configPath, jsKernel } = parseArgs(process.argv.slice(2));
if (process.env.UNREASONABLE_TSLAB_UNPATCHED !== '1') {
  queueBusySends();
  busyWhenStarted();
}
startKernel({ configPath, jsKernel, enableFindLocal: false, globalVersion: require(path.join(tslabDir, 'package.json')).version });
