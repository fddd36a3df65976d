#!/usr/bin/env python3
"""PyTorch eager reference for the benchmark program (the project's own code, not fetched).

Builds the same architectures as the C# presets -- RealNVP (affine couplings with alternating masks, MLP conditioners,
soft-bounded log-scale B*tanh(raw/B), standardization first), MAF (MADE conditioners with ReLU, reversed order
between layers) and NeuralSplineCoupling (an LU-decomposed linear layer with a random permutation before each
rational-quadratic spline coupling, K = 8 bins on [-4, 4], identity tails, spline arithmetic in float64 as in C#) --
and prints JSON lines with the median training-step time (Adam, batch 512) and batched log_prob
throughput, on one thread. Run by `dotnet run -c Release --project test/Microsoft.ML.NormalizingFlows.Benchmarks -- train`;
needs Debian's python3-torch (apt-get install python3-torch) and is skipped when torch is absent.
usage: pytorch_reference.py --dims 2,16,64 --layers 5 --hidden 64 --batch 512 --steps 30 --repeats 3
"""
import argparse, json, math, statistics, time
import torch
from torch import nn


class MLP(nn.Module):
    def __init__(self, inputs, outputs, hidden, layers):
        super().__init__()
        sizes = [inputs] + [hidden] * layers
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.last = nn.Linear(sizes[-1], outputs)
        nn.init.zeros_(self.last.weight); nn.init.zeros_(self.last.bias)

    def forward(self, x):
        for layer in self.hidden:
            x = torch.relu(layer(x))
        return self.last(x)


class AffineCoupling(nn.Module):
    def __init__(self, d, parity, hidden, layers, bound=3.0):
        super().__init__()
        mask = torch.tensor([(j + parity) % 2 for j in range(d)], dtype=torch.float32)
        if d == 1: mask = torch.zeros(1)
        self.register_buffer("mask", mask)
        self.net = MLP(d, 2 * d, hidden, layers)
        self.bound = bound

    def forward(self, x):
        shift, raw = (self.net(x * self.mask)).chunk(2, dim=1)
        log_scale = self.bound * torch.tanh(raw / self.bound) * (1 - self.mask)
        z = x * self.mask + (1 - self.mask) * (x * torch.exp(log_scale) + shift)
        return z, log_scale.sum(1)


class MaskedLinear(nn.Linear):
    def __init__(self, a, b, mask):
        super().__init__(a, b)
        self.register_buffer("mask", mask)

    def forward(self, x):
        return nn.functional.linear(x, self.weight * self.mask, self.bias)


class MADE(nn.Module):
    def __init__(self, d, hidden, layers, outputs_per_input=2):
        super().__init__()
        degrees_in = torch.arange(1, d + 1)
        degrees = [degrees_in] + [torch.arange(hidden) % max(d - 1, 1) + 1 for _ in range(layers)]
        self.layers = nn.ModuleList()
        for a, b in zip(degrees[:-1], degrees[1:]):
            self.layers.append(MaskedLinear(len(a), len(b), (b[:, None] >= a[None, :]).float()))
        out_degrees = degrees_in.repeat(outputs_per_input)
        self.last = MaskedLinear(len(degrees[-1]), d * outputs_per_input, (out_degrees[:, None] > degrees[-1][None, :]).float())
        nn.init.zeros_(self.last.weight); nn.init.zeros_(self.last.bias)

    def forward(self, x):
        h = x
        for layer in self.layers:
            h = torch.relu(layer(h))
        return self.last(h)


class MAFLayer(nn.Module):
    def __init__(self, d, hidden, layers, bound=3.0):
        super().__init__()
        self.made = MADE(d, hidden, layers)
        self.bound = bound

    def forward(self, x):
        shift, raw = self.made(x).chunk(2, dim=1)
        log_scale = self.bound * torch.tanh(raw / self.bound)
        return (x - shift) * torch.exp(-log_scale), -log_scale.sum(1)


def knots(unnormalized, bins, bound, minimum=1e-3):
    fractions = minimum + (1 - minimum * bins) * torch.softmax(unnormalized, -1)
    cumulative = nn.functional.pad(torch.cumsum(fractions, -1), (1, 0))
    k = 2 * bound * cumulative - bound
    k = torch.cat([torch.full_like(k[..., :1], -bound), k[..., 1:bins], torch.full_like(k[..., :1], bound)], -1)
    return k, k[..., 1:] - k[..., :-1]


def rational_quadratic(x_in, params, bins, bound):
    """Forward RQ spline with identity tails (Durkan et al. 2019), float64, the same steps as RationalQuadraticSpline.cs."""
    x_in, params = x_in.double(), params.double()
    inside = (x_in >= -bound) & (x_in <= bound)
    x = x_in.clamp(-bound, bound)
    kx, w = knots(params[..., :bins], bins, bound)
    ky, h = knots(params[..., bins:2 * bins], bins, bound)
    one = torch.ones_like(params[..., :1])
    d = torch.cat([one, 1e-3 + nn.functional.softplus(params[..., 2 * bins:]), one], -1)
    b = (x.unsqueeze(-1) >= kx[..., 1:bins]).sum(-1, keepdim=True)
    xk, wk, yk, hk = (t.gather(-1, b).squeeze(-1) for t in (kx, w, ky, h))
    dk, dk1 = d.gather(-1, b).squeeze(-1), d.gather(-1, b + 1).squeeze(-1)
    sk = hk / wk
    total = dk1 + dk - 2 * sk
    theta = ((x - xk) / wk).clamp(0, 1)
    t1 = theta * (1 - theta)
    y = yk + hk * (sk * theta ** 2 + dk * t1) / (sk + total * t1)
    log_d = torch.log(sk ** 2 * (dk1 * theta ** 2 + 2 * sk * t1 + dk * (1 - theta) ** 2)) - 2 * torch.log(sk + total * t1)
    return torch.where(inside, y, x_in).float(), torch.where(inside, log_d, torch.zeros_like(log_d)).float()


class SplineCoupling(nn.Module):
    def __init__(self, d, parity, hidden, layers, bins=8, bound=4.0):
        super().__init__()
        self.register_buffer("mask", torch.tensor([float((j + parity) % 2 == 0) for j in range(d)]))
        self.net = MLP(d, d * (3 * bins - 1), hidden, layers)
        self.d, self.bins, self.bound = d, bins, bound

    def forward(self, x):
        passed = x * self.mask
        params = self.net(passed).reshape(x.shape[0], self.d, 3 * self.bins - 1)
        y, log_d = rational_quadratic(x, params, self.bins, self.bound)
        return passed + (1 - self.mask) * y, (log_d * (1 - self.mask)).sum(1)


class LULinear(nn.Module):
    def __init__(self, d, generator):
        super().__init__()
        self.lower = nn.Parameter(torch.zeros(d, d)); self.upper = nn.Parameter(torch.zeros(d, d)); self.log_diag = nn.Parameter(torch.zeros(d))
        self.register_buffer("order", torch.randperm(d, generator=generator))

    def forward(self, x):
        d = x.shape[1]
        l = self.lower.double().tril(-1) + torch.eye(d, dtype=torch.float64)
        u = self.upper.double().triu(1) + torch.diag(self.log_diag.double().exp())
        w = (l @ u)[self.order]
        return x @ w.t().float(), self.log_diag.sum().expand(x.shape[0])


class Flow(nn.Module):
    def __init__(self, d, preset, layers, hidden, hidden_layers):
        super().__init__()
        self.d = d
        self.register_buffer("mean", torch.zeros(d))
        self.register_buffer("scale", torch.ones(d))
        self.reverse = False
        if preset == "RealNvp":
            self.layers = nn.ModuleList(AffineCoupling(d, i % 2, hidden, hidden_layers) for i in range(layers))
        elif preset == "NeuralSplineCoupling":
            generator = torch.Generator().manual_seed(0)
            mixed = []
            for i in range(layers):
                mixed += [LULinear(d, generator), SplineCoupling(d, i, hidden, hidden_layers)]
            self.layers = nn.ModuleList(mixed)
        else:
            self.layers = nn.ModuleList(MAFLayer(d, hidden, hidden_layers) for _ in range(layers))
            self.reverse = True

    def log_prob(self, x):
        z = (x - self.mean) / self.scale
        total = -torch.log(self.scale).sum().expand(x.shape[0])
        for i, layer in enumerate(self.layers):
            if self.reverse and i > 0:
                z = z.flip(1)
            z, log_det = layer(z)
            total = total + log_det
        return -0.5 * (z * z).sum(1) - 0.5 * self.d * math.log(2 * math.pi) + total


def median_time(action, repeats):
    action()
    times = []
    for _ in range(repeats):
        start = time.perf_counter(); action(); times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dims", default="2,16,64"); p.add_argument("--presets", default="RealNvp,MaskedAutoregressive,NeuralSplineCoupling")
    p.add_argument("--layers", type=int, default=5); p.add_argument("--hidden", type=int, default=64); p.add_argument("--hidden-layers", type=int, default=2)
    p.add_argument("--batch", type=int, default=512); p.add_argument("--steps", type=int, default=30); p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--score-rows", type=int, default=50000)
    a = p.parse_args()
    torch.set_num_threads(1); torch.manual_seed(0)
    for preset in a.presets.split(","):
        for d in map(int, a.dims.split(",")):
            flow = Flow(d, preset, a.layers, a.hidden, a.hidden_layers)
            data = torch.randn(a.batch * a.steps, d)
            opt = torch.optim.Adam(flow.parameters(), lr=1e-3)

            def train():
                for s in range(a.steps):
                    batch = data[s * a.batch:(s + 1) * a.batch]
                    opt.zero_grad(); loss = -flow.log_prob(batch).mean(); loss.backward()
                    torch.nn.utils.clip_grad_norm_(flow.parameters(), 10.0); opt.step()

            step = median_time(train, a.repeats) / a.steps
            rows = torch.randn(a.score_rows, d)

            def score():
                with torch.no_grad():
                    for start in range(0, a.score_rows, 4096):
                        flow.log_prob(rows[start:start + 4096]).sum().item()

            rows_per_s = a.score_rows / median_time(score, a.repeats)
            print(json.dumps({"preset": preset, "d": d, "step_ms": step * 1000, "log_prob_rows_per_s": rows_per_s, "torch": torch.__version__}), flush=True)


if __name__ == "__main__":
    main()
