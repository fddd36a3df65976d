#!/usr/bin/env python3
"""PyTorch eager reference for `dotnet run -c Release --project test/Microsoft.ML.NormalizingFlows.Benchmarks -- train`
(the project's own code, not fetched).

It builds the C# presets the way the public flow libraries (nflows, zuko) formulate them, as fast as eager PyTorch
allows, with the same layer counts and sizes (so the work per step is comparable):
  RealNvp               standardization, 5 affine couplings with alternating masks; the conditioner (MLP, ReLU) reads the
                        identity features only and outputs 2 * d_t values for the d_t transformed features only;
                        log-scale s = B tanh(raw / B), B = 3.
  MaskedAutoregressive  standardization, 5 MAF layers, MADE conditioners (masked linear layers, the mask multiplied into
                        the weight, sequential degrees), the same affine map, reversed order between layers.
  NeuralSplineCoupling  standardization, then 5 x (LU-decomposed linear layer with a random permutation, rational-
                        quadratic spline coupling: K = 8 bins on [-4, 4], identity tails, minimum bin width/height 1e-3,
                        minimum derivative 1e-3, conditioner outputs d_t (3K - 1) values); float32 throughout, bins
                        found by counting interior knots at or below the input (the nflows sum-of-comparisons lookup;
                        measured against torch.searchsorted on this torch with K = 8: a little slower at d_t <= 8,
                        twice as fast at d_t = 32, the case that dominates the step time).
Standard-normal base, one thread: OMP/OpenBLAS/MKL thread counts are set to 1 before torch loads.

Modes
  --serve   JSON lines on stdin/stdout, one answer line per request (the benchmark alternates its own runs with these):
              {"op":"info"}  -> {"ok":true,"torch":..,"threads":1,"blas":{"kind":"openblas"|"reference"|"mkl"|..,"library":..,
                                 "alternative":..,"threads":..},"env":{..}}
              {"op":"build","preset":P,"d":D,"layers":5,"hidden":64,"hidden_layers":2,"batch":512,"steps":30,
               "score_rows":50000,"seed":0}  -> {"ok":true,"parameters":N}
              {"op":"train","steps":S} -> {"ok":true,"seconds":T,"loss":L}  one timed run of S Adam steps (batch rows
                                 drawn by a fresh random permutation; zero_grad, log_prob, loss.item(), backward,
                                 clip_grad_norm_(10) with a finite check, step; a fresh Adam per run), as
                                 MaximumLikelihoodTrainer.Fit does
              {"op":"score","rows":R} -> {"ok":true,"seconds":T}  inference-mode log_prob of R rows, 4096 per call
              {"op":"quit"}  -> {"ok":true}, then exit (also on end of input)
            errors answer {"ok":false,"error":..}.
  --check   numerical checks on d = 2 and 5 at a random initialization: each layer's log|det J| against the autograd
            Jacobian's, the whole log_prob against the change of variables, finiteness at extreme inputs, float32 against
            float64, and (d = 2) the density's integral over a grid.
  default   standalone timing: one JSON line per preset and dimension (medians of --repeats after a warm-up).
needs Debian's python3-torch (apt-get install python3-torch) and, for a meaningful timing, libopenblas0-pthread.
"""
import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse, json, math, re, statistics, subprocess, sys, sysconfig, time  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

PRESETS = ("RealNvp", "MaskedAutoregressive", "NeuralSplineCoupling")
SCORE_CHUNK = 4096
LOG_SCALE_BOUND, BINS, TAIL_BOUND, MIN_BIN, MIN_DERIVATIVE = 3.0, 8, 4.0, 1e-3, 1e-3


# ----------------------------------------------------------------------------------------------------------- layers
class Conditioner(nn.Module):
    """MLP with ReLU; the last layer starts at zero (each coupling starts as the identity), as in the C# library."""

    def __init__(self, inputs, outputs, hidden, hidden_layers):
        super().__init__()
        sizes = [inputs] + [hidden] * hidden_layers
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.last = nn.Linear(sizes[-1], outputs)
        nn.init.zeros_(self.last.weight)
        nn.init.zeros_(self.last.bias)

    def forward(self, x):
        for layer in self.hidden:
            x = torch.relu(layer(x))
        return self.last(x)


class Coupling(nn.Module):
    """Coupling layer i: even layers pass the first ceil(d/2) features unchanged and transform the rest, odd layers the
    reverse (the C# alternating mask, halves). Both groups are contiguous column views; the output is one cat."""

    def __init__(self, d, index, per_feature, hidden, hidden_layers):
        super().__init__()
        if d < 2:
            raise ValueError("coupling presets need d >= 2")
        half = (d + 1) // 2
        self.identity_first = index % 2 == 0
        self.split = [half, d - half] if self.identity_first else [d - half, half]
        self.d_t = d - half if self.identity_first else half
        self.net = Conditioner(d - self.d_t, self.d_t * per_feature, hidden, hidden_layers)

    def forward(self, x):
        first, second = x.split(self.split, dim=1)
        identity, changed = (first, second) if self.identity_first else (second, first)
        y, log_det = self.transform(changed, self.net(identity))
        return (torch.cat([identity, y], 1) if self.identity_first else torch.cat([y, identity], 1)), log_det.sum(1)


class AffineCoupling(Coupling):
    def __init__(self, d, index, hidden, hidden_layers):
        super().__init__(d, index, 2, hidden, hidden_layers)

    def transform(self, x, params):
        raw, shift = params.chunk(2, 1)
        log_scale = LOG_SCALE_BOUND * torch.tanh(raw / LOG_SCALE_BOUND)
        return x * torch.exp(log_scale) + shift, log_scale


def rational_quadratic(x_in, params):
    """Forward RQ spline with identity tails (Durkan et al. 2019) on [-B, B], float32.
    x_in [N, D]; params [N, D, 3K - 1] (K widths, K heights, K - 1 interior derivatives); returns y, log|dy/dx|."""
    k, b = BINS, TAIL_BOUND
    widths, heights, slopes = (p.contiguous() for p in params.split([k, k, k - 1], -1))
    inside = (x_in >= -b) & (x_in <= b)
    x = x_in.clamp(-b, b).unsqueeze(-1)
    # knots in [0, 1]: 0, cumulative fractions, 1 (ends pinned exactly)
    cw = torch.cumsum(MIN_BIN + (1 - MIN_BIN * k) * torch.softmax(widths, -1), -1)
    ch = torch.cumsum(MIN_BIN + (1 - MIN_BIN * k) * torch.softmax(heights, -1), -1)
    # (constant pads: in this torch, a last-axis cat of such short rows costs several times more)
    knots_x = F.pad(F.pad(cw[..., :k - 1], (1, 0)), (0, 1), value=1.0)
    knots_y = F.pad(F.pad(ch[..., :k - 1], (1, 0)), (0, 1), value=1.0)
    derivatives = F.pad(MIN_DERIVATIVE + F.softplus(slopes), (1, 1), value=1.0)
    u = (x + b) / (2 * b)
    bin_ = (u >= cw.detach()[..., :k - 1]).sum(-1, keepdim=True)
    nxt = bin_ + 1
    x0, x1 = knots_x.gather(-1, bin_), knots_x.gather(-1, nxt)
    y0, y1 = knots_y.gather(-1, bin_), knots_y.gather(-1, nxt)
    d0, d1 = derivatives.gather(-1, bin_), derivatives.gather(-1, nxt)
    wk, hk = x1 - x0, y1 - y0  # in [0, 1] units; the slope h/w and theta are scale-free
    sk = hk / wk
    theta = ((u - x0) / wk).clamp(0, 1)
    t1 = theta * (1 - theta)
    denominator = sk + (d1 + d0 - 2 * sk) * t1
    y = (y0 + hk * (sk * theta * theta + d0 * t1) / denominator) * (2 * b) - b
    log_d = torch.log(sk * sk * (d1 * theta * theta + 2 * sk * t1 + d0 * (1 - theta) ** 2)) - 2 * torch.log(denominator)
    y, log_d = y.squeeze(-1), log_d.squeeze(-1)
    return torch.where(inside, y, x_in), torch.where(inside, log_d, torch.zeros_like(log_d))


class SplineCoupling(Coupling):
    def __init__(self, d, index, hidden, hidden_layers):
        super().__init__(d, index, 3 * BINS - 1, hidden, hidden_layers)

    def transform(self, x, params):
        return rational_quadratic(x, params.reshape(x.shape[0], self.d_t, 3 * BINS - 1))


class LULinear(nn.Module):
    """x -> x W^T with W = P L U (unit lower L, upper U with diagonal exp(log_diag)); log|det| = sum(log_diag)."""

    def __init__(self, d, generator):
        super().__init__()
        self.lower = nn.Parameter(torch.zeros(d, d))
        self.upper = nn.Parameter(torch.zeros(d, d))
        self.log_diag = nn.Parameter(torch.zeros(d))
        self.register_buffer("order", torch.randperm(d, generator=generator))
        self.register_buffer("eye", torch.eye(d))

    def forward(self, x):
        weight = ((self.lower.tril(-1) + self.eye) @ (self.upper.triu(1) + torch.diag(self.log_diag.exp())))[self.order]
        return x @ weight.t(), self.log_diag.sum().expand(x.shape[0])


class MaskedLinear(nn.Linear):
    def __init__(self, inputs, outputs, mask):
        super().__init__(inputs, outputs)
        self.register_buffer("mask", mask)

    def forward(self, x):
        return F.linear(x, self.weight * self.mask, self.bias)


class MAF(nn.Module):
    """MADE conditioner (sequential degrees as nflows and the C# library assign them) and the affine map; the
    outputs are parameter-major ([raw_1..raw_d, shift_1..shift_d])."""

    def __init__(self, d, hidden, hidden_layers):
        super().__init__()
        degrees_in = torch.arange(1, d + 1)
        degrees_hidden = torch.arange(hidden) % max(1, d - 1) + 1
        layers, previous = [], degrees_in
        for _ in range(hidden_layers):
            layers.append(MaskedLinear(len(previous), hidden, (degrees_hidden[:, None] >= previous[None, :]).float()))
            previous = degrees_hidden
        self.hidden = nn.ModuleList(layers)
        degrees_out = degrees_in.repeat(2)
        self.last = MaskedLinear(hidden, 2 * d, (degrees_out[:, None] > previous[None, :]).float())
        nn.init.zeros_(self.last.weight)
        nn.init.zeros_(self.last.bias)

    def forward(self, x):
        h = x
        for layer in self.hidden:
            h = torch.relu(layer(h))
        raw, shift = self.last(h).chunk(2, 1)
        log_scale = LOG_SCALE_BOUND * torch.tanh(raw / LOG_SCALE_BOUND)
        return x * torch.exp(log_scale) + shift, log_scale.sum(1)


class Reverse(nn.Module):
    def forward(self, x):
        return x.flip(1), None


class Flow(nn.Module):
    def __init__(self, d, preset, layers, hidden, hidden_layers, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.d = d
        self.register_buffer("mean", torch.zeros(d))
        self.register_buffer("scale", torch.ones(d))
        if preset == "RealNvp":
            stack = [AffineCoupling(d, i, hidden, hidden_layers) for i in range(layers)]
        elif preset == "MaskedAutoregressive":
            stack = []
            for i in range(layers):
                stack += ([Reverse()] if i > 0 else []) + [MAF(d, hidden, hidden_layers)]
        elif preset == "NeuralSplineCoupling":
            generator = torch.Generator().manual_seed(seed)
            stack = []
            for i in range(layers):
                stack += [LULinear(d, generator), SplineCoupling(d, i, hidden, hidden_layers)]
        else:
            raise ValueError(f"unknown preset {preset!r}; expected one of {', '.join(PRESETS)}")
        self.layers = nn.ModuleList(stack)

    def standardize(self, x):
        return (x - self.mean) / self.scale, -torch.log(self.scale).sum().expand(x.shape[0])

    def log_prob(self, x):
        z, total = self.standardize(x)
        for layer in self.layers:
            z, log_det = layer(z)
            if log_det is not None:
                total = total + log_det
        return -0.5 * (z * z).sum(1) - (0.5 * self.d * math.log(2 * math.pi)) + total


# ------------------------------------------------------------------------------------------------------------- BLAS
def _classify(path):
    name = path.lower()
    for kind in ("openblas", "mkl", "blis", "atlas"):
        if kind in name:
            return kind
    return "reference" if re.search(r"/blas/libblas\.so", name) else "unknown"  # Debian's netlib libblas3


def _sgemm_provider():
    """The file that defines the sgemm_ libtorch_cpu binds to (dlsym through its handle, then dladdr), or None."""
    import ctypes

    class DlInfo(ctypes.Structure):
        _fields_ = [("fname", ctypes.c_char_p), ("fbase", ctypes.c_void_p), ("sname", ctypes.c_char_p), ("saddr", ctypes.c_void_p)]

    with open("/proc/self/maps") as maps:
        torch_cpu = next((l.split()[-1] for l in maps if "libtorch_cpu" in l), None)
    if torch_cpu is None:
        return None
    try:
        address = ctypes.cast(ctypes.CDLL(torch_cpu).sgemm_, ctypes.c_void_p)
    except AttributeError:
        return None  # no BLAS symbol: linked statically (MKL in pip wheels)
    info = DlInfo()
    if not ctypes.CDLL(None).dladdr(address, ctypes.byref(info)) or not info.fname:
        return None
    return os.path.realpath(info.fname.decode())


def blas_info():
    """Which BLAS torch's matmul runs on. After a matmul: the shared object that provides the sgemm_ torch calls
    (resolved through the libblas.so.3 alternative on Debian), the BLAS-like objects mapped in /proc/self/maps,
    the update-alternatives choice, OpenBLAS's thread count, and a measured 256^3 sgemm rate."""
    a = torch.randn(256, 256)
    float((a @ a).sum())
    start = time.perf_counter()
    for _ in range(5):
        a @ a
    gflops = 5 * 2 * 256 ** 3 / (time.perf_counter() - start) / 1e9
    mapped = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split()
            if len(fields) >= 6 and re.search(r"(blas|mkl|blis|atlas)[^/]*\.so", os.path.basename(fields[-1])):
                mapped.add(os.path.realpath(fields[-1]))
    mapped = sorted(mapped)
    try:
        provider = _sgemm_provider()
    except OSError:
        provider = None
    if provider and "libtorch" not in provider:
        kind = _classify(provider)
    elif torch.backends.mkl.is_available():
        kind = "mkl"
    else:
        kind = _classify(" ".join(mapped)) if len(mapped) == 1 else "unknown"
    alternative = None
    triplet = sysconfig.get_config_var("MULTIARCH") or "x86_64-linux-gnu"
    try:
        query = subprocess.run(["update-alternatives", "--query", f"libblas.so.3-{triplet}"], capture_output=True, text=True, timeout=10)
        alternative = next((l.split(":", 1)[1].strip() for l in query.stdout.splitlines() if l.startswith("Value:")), None)
    except (OSError, subprocess.SubprocessError):
        pass
    threads = None
    openblas = next((p for p in mapped if "openblas" in os.path.basename(p)), None)
    if kind == "openblas" and openblas:
        try:
            import ctypes
            threads = ctypes.CDLL(openblas).openblas_get_num_threads()
        except (OSError, AttributeError):
            pass
    return {"kind": kind, "library": provider, "mapped": mapped, "alternative": alternative, "threads": threads,
            "sgemm_gflops": round(gflops, 2)}


# ----------------------------------------------------------------------------------------------------------- timing
class Bench:
    """One preset and dimension: the flow, its training rows (batch x steps) and scoring rows."""

    def __init__(self, preset, d, layers=5, hidden=64, hidden_layers=2, batch=512, steps=30, score_rows=50000, seed=0):
        self.flow = Flow(d, preset, layers, hidden, hidden_layers, seed)
        self.parameters = [p for p in self.flow.parameters()]
        self.d, self.batch, self.seed = d, batch, seed
        generator = torch.Generator().manual_seed(seed + 1)
        self.data = torch.randn(batch * steps, d, generator=generator)
        self.rows = torch.randn(score_rows, d, generator=generator)
        self.order = torch.Generator().manual_seed(seed)

    def train(self, steps):
        if self.data.shape[0] < steps * self.batch:
            self.data = torch.randn(steps * self.batch, self.d, generator=torch.Generator().manual_seed(self.seed + 1))
        flow, parameters, batch = self.flow, self.parameters, self.batch
        start = time.perf_counter()
        optimizer = torch.optim.Adam(parameters, lr=1e-3, foreach=True)  # the multi-tensor Adam: faster on CPU too
        order = torch.randperm(steps * batch, generator=self.order)
        data = self.data[:steps * batch]
        loss_value = math.nan
        for s in range(steps):
            rows = data.index_select(0, order[s * batch:(s + 1) * batch])
            optimizer.zero_grad(set_to_none=True)
            loss = -flow.log_prob(rows).mean()
            loss_value = loss.item()
            if not math.isfinite(loss_value):
                raise FloatingPointError(f"loss {loss_value} at step {s}")
            loss.backward()
            norm = float(nn.utils.clip_grad_norm_(parameters, 10.0))
            if not math.isfinite(norm):
                raise FloatingPointError(f"gradient norm {norm} at step {s}")
            optimizer.step()
        return time.perf_counter() - start, loss_value

    def score(self, rows):
        if self.rows.shape[0] < rows:
            self.rows = torch.randn(rows, self.d, generator=torch.Generator().manual_seed(self.seed + 2))
        data = self.rows[:rows]
        start = time.perf_counter()
        with torch.inference_mode():
            for first in range(0, rows, SCORE_CHUNK):
                self.flow.log_prob(data[first:first + SCORE_CHUNK]).sum().item()
        return time.perf_counter() - start


def info():
    return {"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas_info(),
            "env": {v: os.environ.get(v) for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}}


def serve():
    bench = None
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            op = request.get("op")
            if op == "info":
                answer = info()
            elif op == "build":
                bench = None
                bench = Bench(request["preset"], int(request["d"]), int(request.get("layers", 5)), int(request.get("hidden", 64)),
                              int(request.get("hidden_layers", 2)), int(request.get("batch", 512)), int(request.get("steps", 30)),
                              int(request.get("score_rows", 50000)), int(request.get("seed", 0)))
                answer = {"parameters": sum(p.numel() for p in bench.parameters)}
            elif op in ("train", "score") and bench is None:
                raise ValueError("no flow: send a build request first")
            elif op == "train":
                seconds, loss = bench.train(int(request["steps"]))
                answer = {"seconds": seconds, "loss": loss}
            elif op == "score":
                answer = {"seconds": bench.score(int(request["rows"]))}
            elif op == "quit":
                print(json.dumps({"ok": True}), flush=True)
                return
            else:
                raise ValueError(f"unknown op {op!r}")
            answer = {"ok": True, **answer}
        except Exception as error:  # the answer carries the error; the server keeps running
            answer = {"ok": False, "error": f"{type(error).__name__}: {error}"}
        print(json.dumps(answer), flush=True)


def standalone(a):
    print(json.dumps(info()), flush=True)
    for preset in a.presets.split(","):
        for d in map(int, a.dims.split(",")):
            bench = Bench(preset, d, a.layers, a.hidden, a.hidden_layers, a.batch, a.steps, a.score_rows)
            bench.train(a.steps)
            step = statistics.median(bench.train(a.steps)[0] for _ in range(a.repeats)) / a.steps
            bench.score(a.score_rows)
            score = statistics.median(bench.score(a.score_rows) for _ in range(a.repeats))
            print(json.dumps({"preset": preset, "d": d, "step_ms": step * 1000, "log_prob_rows_per_s": a.score_rows / score}), flush=True)


# ------------------------------------------------------------------------------------------------------------ check
def randomize(flow, generator):
    with torch.no_grad():
        for name, p in flow.named_parameters():
            p.copy_(torch.randn(p.shape, generator=generator, dtype=p.dtype) * (0.1 if "log_diag" in name or name.endswith("bias") else 0.2))


def check(dims=(2, 5), rows=4):
    failures = 0
    generator = torch.Generator().manual_seed(7)
    for preset in PRESETS:
        for d in dims:
            flow64 = Flow(d, preset, 5, 16, 2, seed=3).double()
            randomize(flow64, generator)
            with torch.no_grad():
                flow64.mean.copy_(torch.randn(d, generator=generator, dtype=torch.float64) * 0.3)
                flow64.scale.copy_(torch.rand(d, generator=generator, dtype=torch.float64) + 0.5)
            x = torch.randn(rows, d, generator=generator, dtype=torch.float64) * 2
            layer_error = 0.0
            for row in x:
                z, _ = flow64.standardize(row[None])
                for layer in flow64.layers:
                    out, log_det = layer(z)
                    jacobian = torch.autograd.functional.jacobian(lambda v: layer(v[None])[0][0], z[0])
                    expected = torch.linalg.slogdet(jacobian).logabsdet
                    layer_error = max(layer_error, abs(float((log_det[0] if log_det is not None else 0.0) - expected)))
                    z = out.detach()
            # the whole density: log N(f(x)) + log|det df/dx|
            def whole(v):
                z, _ = flow64.standardize(v[None])
                for layer in flow64.layers:
                    z, _ = layer(z)
                return z[0]
            density_error = 0.0
            for row in x:
                z = whole(row)
                expected = (-0.5 * (z * z).sum() - 0.5 * d * math.log(2 * math.pi)
                            + torch.linalg.slogdet(torch.autograd.functional.jacobian(whole, row)).logabsdet)
                density_error = max(density_error, abs(float(flow64.log_prob(row[None])[0] - expected)))
            extreme = torch.tensor([[v] * d for v in (-50.0, -4.0, -3.999, 0.0, 4.0, 4.0001, 50.0)], dtype=torch.float64)
            flow32 = Flow(d, preset, 5, 16, 2, seed=3)
            flow32.load_state_dict({k: v.float() for k, v in flow64.state_dict().items()})
            finite = bool(torch.isfinite(flow64.log_prob(extreme)).all() and torch.isfinite(flow32.log_prob(extreme.float())).all())
            precision = float((flow32.log_prob(x.float()).double() - flow64.log_prob(x)).abs().max())
            integral = None
            if d == 2:
                grid = torch.linspace(-12, 12, 601, dtype=torch.float64)
                cell = float(grid[1] - grid[0]) ** 2
                points = torch.cartesian_prod(grid, grid)
                with torch.no_grad():
                    integral = float(torch.exp(flow64.log_prob(points)).sum() * cell)
            ok = layer_error < 1e-8 and density_error < 1e-8 and finite and precision < 1e-3 and (integral is None or abs(integral - 1) < 0.02)
            failures += not ok
            print(json.dumps({"preset": preset, "d": d, "ok": ok, "layer_log_det_error": layer_error, "log_prob_error": density_error,
                              "finite_at_extremes": finite, "float32_vs_float64": precision, "grid_integral": integral}), flush=True)
    return failures


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--serve", action="store_true"); p.add_argument("--check", action="store_true")
    p.add_argument("--dims", default="2,16,64"); p.add_argument("--presets", default=",".join(PRESETS))
    p.add_argument("--layers", type=int, default=5); p.add_argument("--hidden", type=int, default=64); p.add_argument("--hidden-layers", type=int, default=2)
    p.add_argument("--batch", type=int, default=512); p.add_argument("--steps", type=int, default=30); p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--score-rows", type=int, default=50000)
    a = p.parse_args()
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    if a.check:
        sys.exit(1 if check() else 0)
    serve() if a.serve else standalone(a)


if __name__ == "__main__":
    main()
