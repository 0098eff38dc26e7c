"""The pure-PyTorch Mamba mixer against mambapy (CPU) and mamba_ssm (CUDA), its two scans
against each other, its state_dict against mamba_ssm's layout, gradients and determinism."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from spectramind.models.mamba import (  # noqa: E402 (after the optional-extra skip)
    FGS1Encoder,
    MambaMixer,
    mamba_ssm_scan,
    selective_scan_in_use,
    selective_scan_parallel,
    selective_scan_sequential,
)

torch.set_num_threads(1)  # threaded BLAS is slower than one thread on these sizes

SCANS = ("parallel", "sequential")


def _random_scan_inputs(batch, d_inner, d_state, length, seed):
    """Scan inputs in mamba_ssm's layout, float64, with delta spread well past its init."""
    g = torch.Generator().manual_seed(seed)

    def randn(*shape):
        return torch.randn(*shape, generator=g, dtype=torch.float64)

    return dict(
        u=randn(batch, d_inner, length),
        delta=randn(batch, d_inner, length),
        A=-torch.exp(randn(d_inner, d_state)),
        B=randn(batch, d_state, length),
        C=randn(batch, d_state, length),
        D=randn(d_inner),
        delta_bias=randn(d_inner),
        delta_softplus=True,
    )


@torch.no_grad()
def _perturb(module, seed):
    """Move every parameter off its structured init so all of them matter to the output."""
    g = torch.Generator().manual_seed(seed)
    for parameter in module.parameters():
        parameter.add_(0.3 * torch.randn(parameter.shape, generator=g, dtype=parameter.dtype))


@pytest.mark.parametrize("scan", SCANS)
def test_mixer_matches_mambapy(scan):
    # mambapy's MambaBlock names its parameters as mamba_ssm does, so the mapping is the
    # identity and load_state_dict(strict=True) checks it; config names differ only in
    # expand_factor (mambapy) = expand (here) and pscan=True/False = scan.
    mambapy = pytest.importorskip("mambapy.mamba")
    torch.manual_seed(0)
    config = mambapy.MambaConfig(d_model=16, n_layers=1, pscan=scan == "parallel")
    reference = mambapy.MambaBlock(config)
    _perturb(reference, seed=1)
    mixer = MambaMixer(16, scan=scan)
    mixer.load_state_dict(reference.state_dict(), strict=True)
    x = torch.randn(2, 64, 16, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        expected, got = reference(x), mixer(x)
    assert expected.abs().max() > 0.1  # a real signal, not a vanishing one
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-5)


def test_encoder_layers_match_mambapy_stack():
    mambapy = pytest.importorskip("mambapy.mamba")
    torch.manual_seed(0)
    reference = mambapy.Mamba(mambapy.MambaConfig(d_model=16, n_layers=2))
    _perturb(reference, seed=3)
    encoder = FGS1Encoder(n_features=16, d_model=16, n_layers=2)
    encoder.layers.load_state_dict(reference.layers.state_dict(), strict=True)
    x = torch.randn(2, 64, 16, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        expected = reference(x)
        got = x
        for layer in encoder.layers:
            got = layer(got)
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-5)


@pytest.mark.parametrize("length", [1, 2, 7, 64, 100, 257])
def test_parallel_scan_equals_sequential(length):
    inputs = _random_scan_inputs(batch=2, d_inner=6, d_state=5, length=length, seed=length)
    expected = selective_scan_sequential(**inputs)
    assert expected.shape == (2, 6, length)
    torch.testing.assert_close(selective_scan_parallel(**inputs), expected, rtol=0, atol=1e-6)


def test_scan_matches_hand_recurrence():
    # One channel, one state: h_t = exp(d A) h_{t-1} + d B_t u_t, y_t = C_t h_t + D u_t.
    u = torch.tensor([[[1.0, 2.0, -1.0]]], dtype=torch.float64)
    delta = torch.full_like(u, 0.5)
    A = torch.tensor([[-2.0]], dtype=torch.float64)
    B = torch.tensor([[[1.0, 0.5, 2.0]]], dtype=torch.float64)
    C = torch.tensor([[[1.0, -1.0, 3.0]]], dtype=torch.float64)
    D = torch.tensor([0.25], dtype=torch.float64)
    a = torch.exp(torch.tensor(-1.0, dtype=torch.float64))
    h1 = torch.tensor(0.5 * 1.0 * 1.0, dtype=torch.float64)
    h2 = a * h1 + 0.5 * 0.5 * 2.0
    h3 = a * h2 + 0.5 * 2.0 * -1.0
    expected = torch.stack([h1 + 0.25, -h2 + 0.5, 3 * h3 - 0.25]).reshape(1, 1, 3)
    for scan in (selective_scan_sequential, selective_scan_parallel):
        torch.testing.assert_close(scan(u, delta, A, B, C, D), expected, rtol=0, atol=1e-12)


def test_parallel_scan_gradients_are_exact():
    inputs = _random_scan_inputs(batch=1, d_inner=2, d_state=3, length=5, seed=7)
    names = ("u", "delta", "A", "B", "C", "D", "delta_bias")
    tensors = tuple(inputs[name].requires_grad_() for name in names)

    def scan(*args):
        return selective_scan_parallel(*args[:6], delta_bias=args[6], delta_softplus=True)

    assert torch.autograd.gradcheck(scan, tensors)


# mamba_ssm's layout, from state-spaces/mamba mamba_ssm/modules/mamba_simple.py (class Mamba,
# commit 52f57d66f8d6d02a73b1e38f5f3708eb8ccfa39c, mamba-ssm 2.x) for d_model=16 and defaults
# (d_state=16, d_conv=4, expand=2 -> d_inner=32, dt_rank=ceil(16/16)=1, bias=False,
# conv_bias=True), and for d_model=40, d_state=8, d_conv=3, expand=3 (d_inner=120,
# dt_rank=ceil(40/16)=3).
MAMBA_SSM_LAYOUT = {
    (16, 16, 4, 2): {
        "in_proj.weight": (64, 16),
        "conv1d.weight": (32, 1, 4),
        "conv1d.bias": (32,),
        "x_proj.weight": (33, 32),
        "dt_proj.weight": (32, 1),
        "dt_proj.bias": (32,),
        "A_log": (32, 16),
        "D": (32,),
        "out_proj.weight": (16, 32),
    },
    (40, 8, 3, 3): {
        "in_proj.weight": (240, 40),
        "conv1d.weight": (120, 1, 3),
        "conv1d.bias": (120,),
        "x_proj.weight": (19, 120),
        "dt_proj.weight": (120, 3),
        "dt_proj.bias": (120,),
        "A_log": (120, 8),
        "D": (120,),
        "out_proj.weight": (40, 120),
    },
}


@pytest.mark.parametrize("config", list(MAMBA_SSM_LAYOUT))
def test_state_dict_has_mamba_ssm_layout(config):
    d_model, d_state, d_conv, expand = config
    torch.manual_seed(0)
    mixer = MambaMixer(d_model, d_state=d_state, d_conv=d_conv, expand=expand)
    state = mixer.state_dict()
    assert {name: tuple(t.shape) for name, t in state.items()} == MAMBA_SSM_LAYOUT[config]
    d_inner = expand * d_model
    # mamba_ssm's initialisation: S4D-real A, unit skip, dt log-uniform in [dt_min, dt_max].
    expected_A_log = torch.log(torch.arange(1.0, d_state + 1)).expand(d_inner, d_state)
    torch.testing.assert_close(state["A_log"], expected_A_log)
    torch.testing.assert_close(state["D"], torch.ones(d_inner))
    dt = torch.nn.functional.softplus(state["dt_proj.bias"])
    assert dt.min() >= 1e-3 * (1 - 1e-5) and dt.max() <= 0.1 * (1 + 1e-5)
    assert state["dt_proj.weight"].abs().max() <= mixer.dt_rank**-0.5


@pytest.mark.parametrize("scan", [*SCANS, "mamba_ssm kernel"])
def test_mixer_matches_mamba_ssm_on_cuda(scan):
    """Output and gradients of each of our scans, and of the mixer running mamba_ssm's
    kernel, against mamba_ssm's own Mamba (its reference path) with the same weights."""
    mamba_simple = pytest.importorskip("mamba_ssm.modules.mamba_simple")
    if not torch.cuda.is_available():
        pytest.skip("mamba_ssm's kernels need CUDA")
    torch.manual_seed(0)
    kernel = scan == "mamba_ssm kernel"
    mixer = MambaMixer(16, scan="parallel" if kernel else scan, cuda_kernel=kernel)
    _perturb(mixer, seed=5)
    reference = mamba_simple.Mamba(16, use_fast_path=False).cuda()
    reference.load_state_dict(mixer.state_dict(), strict=True)
    mixer = mixer.cuda()
    x = torch.randn(2, 64, 16, generator=torch.Generator().manual_seed(6)).cuda()
    outputs, gradients = [], []
    for module in (mixer, reference):
        xi = x.clone().requires_grad_(True)
        outputs.append(module(xi))
        outputs[-1].square().sum().backward()
        gradients.append(xi.grad)
    torch.testing.assert_close(outputs[0], outputs[1], rtol=0, atol=1e-4)
    torch.testing.assert_close(gradients[0], gradients[1], rtol=1e-4, atol=1e-4)
    theirs = dict(reference.named_parameters())
    for name, ours in mixer.named_parameters():
        torch.testing.assert_close(ours.grad, theirs[name].grad, rtol=1e-3, atol=1e-4)


def test_cpu_inputs_never_reach_the_cuda_kernel(monkeypatch):
    """A model built where CUDA and mamba_ssm exist still runs on CPU tensors (pure scans)."""

    def kernel(*args, **kwargs):
        raise AssertionError("CPU input sent to the CUDA kernel")

    monkeypatch.setattr("spectramind.models.mamba.mamba_ssm_scan", lambda: kernel)
    mixer = MambaMixer(16)
    assert mixer(torch.randn(2, 8, 16)).shape == (2, 8, 16)
    if torch.cuda.is_available():
        with pytest.raises(AssertionError, match="CUDA kernel"):
            mixer.cuda()(torch.randn(2, 8, 16, device="cuda"))


def test_mamba_ssm_scan_is_none_without_the_package():
    try:
        import mamba_ssm  # noqa: F401
    except ImportError:
        assert mamba_ssm_scan() is None
    else:
        assert callable(mamba_ssm_scan())


def test_the_selective_scan_in_use_is_named_with_why(monkeypatch):
    """What V50's log and the Kaggle run's record say: mamba-ssm's kernel only on CUDA with
    the package importable; otherwise the pure-PyTorch scan and the reason."""
    assert selective_scan_in_use("cpu") == (
        "pure-PyTorch parallel scan on cpu (mamba-ssm's kernel runs on CUDA only)"
    )
    monkeypatch.setattr("spectramind.models.mamba._mamba_ssm",
                        lambda: (None, "ImportError: undefined symbol"))  # fmt: skip
    assert selective_scan_in_use("cuda", "sequential") == (
        "pure-PyTorch sequential scan on cuda (mamba-ssm's kernel does not import: "
        "ImportError: undefined symbol)"
    )
    assert "cuda_kernel off" in selective_scan_in_use("cuda", cuda_kernel=False)
    monkeypatch.setattr("spectramind.models.mamba._mamba_ssm", lambda: (print, "mamba_ssm 2.3"))
    assert selective_scan_in_use("cuda") == "mamba-ssm CUDA kernel (mamba_ssm 2.3)"


@pytest.mark.parametrize("scan", SCANS)
def test_gradients_reach_every_parameter(scan):
    torch.manual_seed(0)
    encoder = FGS1Encoder(n_features=3, d_model=16, n_layers=2, scan=scan)
    x = torch.randn(2, 50, 3, requires_grad=True)
    encoder(x).pow(2).mean().backward()
    for name, parameter in [("input", x), *encoder.named_parameters()]:
        assert parameter.grad is not None, name
        assert torch.isfinite(parameter.grad).all(), name
        assert parameter.grad.abs().max() > 0, name


def test_scans_give_the_same_gradients():
    grads = {}
    for scan in SCANS:
        torch.manual_seed(0)
        mixer = MambaMixer(16, scan=scan).double()
        _perturb(mixer, seed=8)
        x = torch.randn(2, 37, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(9))
        mixer(x).sum().backward()
        grads[scan] = {name: p.grad for name, p in mixer.named_parameters()}
    for name, grad in grads["parallel"].items():
        torch.testing.assert_close(grad, grads["sequential"][name], rtol=0, atol=1e-9)


@pytest.mark.parametrize("norm", ["rms", "layer"])
def test_encoder_is_deterministic_with_a_fixed_seed(norm):
    x = torch.randn(2, 40, 3, generator=torch.Generator().manual_seed(10))
    outputs = []
    for _ in range(2):
        torch.manual_seed(123)
        encoder = FGS1Encoder(n_features=3, d_model=16, n_layers=2, norm=norm)
        with torch.no_grad():
            outputs.append(encoder(x))
    assert outputs[0].shape == (2, 40, 16)
    assert torch.equal(outputs[0], outputs[1])
