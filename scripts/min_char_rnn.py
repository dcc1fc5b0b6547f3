"""Karpathy's min-char-rnn (gist 6f2ec4…, 2015) as the bench's numpy peer: a vanilla RNN, hidden 100,
seq 25, batch 1, Adagrad lr 0.1, gradients clipped to [-5, 5]; his code, without the sampling
every 100 iterations. Times iterations (forward + backward + update) and prints one JSON line.
Usage: python3 scripts/min_char_rnn.py TEXT [--steps 500 --hidden 100 --seq 25 --lr 0.1 --seed 0]"""
import argparse
import json
import statistics
import time

import numpy as np

p = argparse.ArgumentParser()
p.add_argument('text')
p.add_argument('--steps', type=int, default=500)
p.add_argument('--hidden', type=int, default=100)
p.add_argument('--seq', type=int, default=25)
p.add_argument('--lr', type=float, default=1e-1)
p.add_argument('--seed', type=int, default=0)
args = p.parse_args()
np.random.seed(args.seed)

data = open(args.text, 'rb').read()
chars = sorted(set(data))
V, H, T = len(chars), args.hidden, args.seq
ix = {c: i for i, c in enumerate(chars)}
ids = [ix[c] for c in data]

Wxh = np.random.randn(H, V) * 0.01
Whh = np.random.randn(H, H) * 0.01
Why = np.random.randn(V, H) * 0.01
bh = np.zeros((H, 1))
by = np.zeros((V, 1))


def loss_fun(inputs, targets, hprev):
    xs, hs, ys, ps = {}, {}, {}, {}
    hs[-1] = np.copy(hprev)
    loss = 0
    for t in range(len(inputs)):
        xs[t] = np.zeros((V, 1))
        xs[t][inputs[t]] = 1
        hs[t] = np.tanh(np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t - 1]) + bh)
        ys[t] = np.dot(Why, hs[t]) + by
        ps[t] = np.exp(ys[t]) / np.sum(np.exp(ys[t]))
        loss += -np.log(ps[t][targets[t], 0])
    dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
    dbh, dby = np.zeros_like(bh), np.zeros_like(by)
    dhnext = np.zeros_like(hs[0])
    for t in reversed(range(len(inputs))):
        dy = np.copy(ps[t])
        dy[targets[t]] -= 1
        dWhy += np.dot(dy, hs[t].T)
        dby += dy
        dh = np.dot(Why.T, dy) + dhnext
        dhraw = (1 - hs[t] * hs[t]) * dh
        dbh += dhraw
        dWxh += np.dot(dhraw, xs[t].T)
        dWhh += np.dot(dhraw, hs[t - 1].T)
        dhnext = np.dot(Whh.T, dhraw)
    for dparam in [dWxh, dWhh, dWhy, dbh, dby]:
        np.clip(dparam, -5, 5, out=dparam)
    return loss, dWxh, dWhh, dWhy, dbh, dby, hs[len(inputs) - 1]


mem = [np.zeros_like(m) for m in (Wxh, Whh, Why, bh, by)]
pos, hprev = 0, np.zeros((H, 1))
times, losses = [], []
for n in range(args.steps):
    t0 = time.perf_counter()
    if pos + T + 1 >= len(ids) or n == 0:
        hprev = np.zeros((H, 1))
        pos = 0
    inputs, targets = ids[pos:pos + T], ids[pos + 1:pos + T + 1]
    loss, *grads, hprev = loss_fun(inputs, targets, hprev)
    for param, dparam, m in zip([Wxh, Whh, Why, bh, by], grads, mem):
        m += dparam * dparam
        param += -args.lr * dparam / np.sqrt(m + 1e-8)
    pos += T
    times.append(time.perf_counter() - t0)
    losses.append(loss / T)
median = statistics.median(times[5:] or times)
print(json.dumps(dict(impl='numpy min-char-rnn', numpy=np.__version__, steps=args.steps, iterations_per_s=1 / median,
                      median_step_s=median, bytes_per_s=T / median, loss_last=sum(losses[-20:]) / len(losses[-20:]))))
