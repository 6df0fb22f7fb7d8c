"""Tests for maxent_lib.runtime: profiles, device choice, seeding."""

import random

import numpy as np
import pytest
import torch

from maxent_lib import runtime


def test_profile_from_environment(monkeypatch):
    monkeypatch.setenv("MAXENT_PROFILE", "quick")
    assert runtime.get_profile() == "quick"
    monkeypatch.setenv("MAXENT_PROFILE", " FULL ")
    assert runtime.get_profile() == "full"
    monkeypatch.setenv("MAXENT_PROFILE", "medium")
    with pytest.raises(ValueError, match="MAXENT_PROFILE"):
        runtime.get_profile()
    monkeypatch.delenv("MAXENT_PROFILE")
    assert runtime.get_profile() == ("full" if torch.cuda.is_available() else "quick")


def test_by_profile(monkeypatch):
    assert runtime.by_profile(quick=1, full=2, profile="quick") == 1
    assert runtime.by_profile(quick=1, full=2, profile="full") == 2
    monkeypatch.setenv("MAXENT_PROFILE", "full")
    assert runtime.by_profile(quick="a", full="b") == "b"
    with pytest.raises(ValueError, match="profile"):
        runtime.by_profile(quick=1, full=2, profile="fast")


def test_get_device(monkeypatch):
    monkeypatch.setenv("MAXENT_DEVICE", "cpu")
    assert runtime.get_device() == torch.device("cpu")
    assert runtime.get_device("cpu").type == "cpu"
    monkeypatch.delenv("MAXENT_DEVICE")
    assert runtime.get_device("auto").type in ("cpu", "cuda", "mps")
    with pytest.raises(ValueError, match="unknown device"):
        runtime.get_device("tpu9")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA GPU"):
            runtime.get_device("cuda")
        monkeypatch.setenv("MAXENT_DEVICE", "cuda:1")
        with pytest.raises(ValueError, match="no CUDA GPU"):
            runtime.get_device()


def test_seed_everything():
    rng = runtime.seed_everything(5)
    a = (random.random(), np.random.rand(), torch.rand(1).item(), rng.random())
    rng = runtime.seed_everything(5)
    b = (random.random(), np.random.rand(), torch.rand(1).item(), rng.random())
    assert a == b
    with pytest.raises(ValueError, match="seed must be an integer >= 0"):
        runtime.seed_everything(-1)
    with pytest.raises(ValueError, match="seed must be an integer <="):
        runtime.seed_everything(2**64)
    for bad in (1.5, True, "3", None):  # wrong types: TypeError (also a ValueError)
        with pytest.raises(TypeError, match="seed must be an integer"):
            runtime.seed_everything(bad)


def test_environment_report_has_the_basics():
    report = runtime.environment_report()
    assert {"python", "numpy", "torch", "device", "profile"} <= set(report)
    assert all(isinstance(v, str) for v in report.values())


def test_progress_bar_honours_tqdm_disable(monkeypatch):
    from maxent_lib.runtime import progress_bar

    monkeypatch.setenv("TQDM_DISABLE", "1")
    assert progress_bar(range(3), enabled=True).disable is True
    monkeypatch.setenv("TQDM_DISABLE", "0")
    assert progress_bar(range(3), enabled=False).disable is True
    assert list(progress_bar(range(3))) == [0, 1, 2]
