#!/usr/bin/python3
"""PyTorch peer for comparisons: an nn.LSTM byte-level model trained with char-rnn's batch layout and
truncated BPTT, the same schedule as lib/train/trainer.ts (Adam, global-norm clipping, state carried and
detached, reset every epoch). Run with /usr/bin/python3 and OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2
GOMP_SPINCOUNT=0 (Debian's torch is several times slower without them).
Usage: torch_charlstm.py TRAIN VAL [--hidden 128 --layers 2 --batch 32 --seq 64 --steps 1000 --lr 2e-3]
Prints one JSON line: val_loss (nats/byte, whole VAL as one stream), train_chars_per_s, seconds.
With --bench: step times only (median), peak RSS, and optionally sampling speed."""
import argparse
import json
import math
import resource
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument('train')
p.add_argument('val')
for name, default in dict(hidden=128, layers=2, batch=32, seq=64, steps=1000, threads=2, seed=0).items():
    p.add_argument('--' + name, type=int, default=default)
p.add_argument('--lr', type=float, default=2e-3)
p.add_argument('--clip', type=float, default=5.0)
p.add_argument('--bench', action='store_true', help='time training steps only (median after 2 warm-up steps), no validation')
p.add_argument('--sample-bytes', type=int, default=0, help='with --bench: also time sampling this many bytes one at a time')
p.add_argument('--record-bytes', type=int, default=0, help='with --bench: also time recording h and c of every layer and the top-5 predictions after each of this many bytes of TRAIN')
args = p.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(args.seed)

train_bytes = open(args.train, 'rb').read()
val_bytes = open(args.val, 'rb').read()
vocab = sorted(set(train_bytes) | set(val_bytes))
index = {b: i for i, b in enumerate(vocab)}
V = len(vocab)


def encode(data):
    return torch.tensor([index[b] for b in data], dtype=torch.long)


class CharLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(V, args.hidden, args.layers, batch_first=True)
        self.decoder = nn.Linear(args.hidden, V)

    def forward(self, x, state=None):
        out, state = self.lstm(F.one_hot(x, V).float(), state)
        return self.decoder(out), state


train_ids = encode(train_bytes)
n = (len(train_ids) - 1) // args.batch  # ids per stream
X = train_ids[:n * args.batch].view(args.batch, n)
Y = train_ids[1:n * args.batch + 1].view(args.batch, n)
chunks = n // args.seq

model = CharLSTM()
opt = torch.optim.Adam(model.parameters(), lr=args.lr)
state = None
losses = []
step_times = []
t0 = time.time()
for step in range(args.steps):
    ts = time.perf_counter()
    c = step % chunks
    if c == 0:
        state = None
    x = X[:, c * args.seq:(c + 1) * args.seq]
    y = Y[:, c * args.seq:(c + 1) * args.seq]
    logits, state = model(x, state)
    state = tuple(s.detach() for s in state)
    loss = F.cross_entropy(logits.reshape(-1, V), y.reshape(-1))
    opt.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), args.clip)
    opt.step()
    losses.append(loss.item())
    step_times.append(time.perf_counter() - ts)
seconds = time.time() - t0

if args.bench:
    median = statistics.median(step_times[2:] or step_times)
    result = dict(impl='torch', torch=torch.__version__, threads=args.threads, steps=args.steps,
                  bytes_per_s=args.batch * args.seq / median, median_step_s=median)
    if args.sample_bytes:
        model.eval()
        with torch.no_grad():
            x = torch.tensor([[0]])
            st = None
            for _ in range(50):  # warm-up, as the TypeScript side does
                logits, st = model(x, st)
                x = torch.multinomial(torch.softmax(logits[0, -1], -1), 1).view(1, 1)
            t1 = time.perf_counter()
            for _ in range(args.sample_bytes):
                logits, st = model(x, st)
                probs = torch.softmax(logits[0, -1], -1)
                x = torch.multinomial(probs, 1).view(1, 1)
            result['sample_bytes_per_s'] = args.sample_bytes / (time.perf_counter() - t1)
    if args.record_bytes:
        # What the toolkit's record() keeps: h and c of every layer and the top-5 next bytes after each
        # byte. nn.LSTM returns c only for the last step of a call, so the text goes in one byte at a time.
        model.eval()
        with torch.no_grad():
            ids = encode(train_bytes[:args.record_bytes])

            def record(ids):
                n = len(ids)
                hs = torch.empty(n, args.layers, args.hidden)
                cs = torch.empty(n, args.layers, args.hidden)
                top_p = torch.empty(n, 5)
                top_i = torch.empty(n, 5, dtype=torch.long)
                st = None
                for t in range(n):
                    logits, st = model(ids[t].view(1, 1), st)
                    hs[t] = st[0][:, 0]
                    cs[t] = st[1][:, 0]
                    top_p[t], top_i[t] = torch.topk(torch.softmax(logits[0, -1], -1), 5)
                return hs, cs, top_p, top_i

            record(ids[:50])  # warm-up
            t1 = time.perf_counter()
            record(ids)
            result['record_bytes_per_s'] = len(ids) / (time.perf_counter() - t1)
    result['peak_rss_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))
    raise SystemExit(0)

model.eval()
with torch.no_grad():
    val_ids = encode(val_bytes)
    logits, _ = model(val_ids[:-1].unsqueeze(0))
    val_loss = F.cross_entropy(logits[0], val_ids[1:]).item()
print(json.dumps(dict(impl='torch', torch=torch.__version__, V=V, steps=args.steps,
                      train_loss_last50=sum(losses[-50:]) / min(50, len(losses)),
                      val_loss=val_loss, val_bpc=val_loss / math.log(2),
                      train_chars_per_s=args.steps * args.batch * args.seq / seconds, seconds=seconds)))
