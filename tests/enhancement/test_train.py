import json

import numpy as np
import onnxruntime as ort
import torch

from enhancement import train
from enhancement.zero_dce import ZeroDCEPP


def test_training_script_runs_and_updates_the_weights(tmp_path):
    out = tmp_path / "w.pt"
    record = train.main(["--max-steps", "3", "--size", "32", "--batch", "2", "--minutes", "1", "--out", str(out),
                         "--seed", "3"])
    assert record["steps"] == 3
    assert any(name.endswith("astronaut.png") for name in record["training_images"])
    torch.manual_seed(3)
    init = ZeroDCEPP().state_dict()
    trained = torch.load(out, weights_only=True)["model"]
    changed = [k for k in init if not torch.equal(init[k], trained[k])]
    assert len(changed) == len(init)
    losses = [h["loss"] for h in record["history"]]
    assert all(np.isfinite(losses))
    assert json.loads(out.with_suffix(".json").read_text())["steps"] == 3
    # The ONNX written beside it is the same network.
    model = ZeroDCEPP()
    model.load_state_dict(trained)
    model.eval()
    x = torch.rand(1, 3, 40, 56)
    with torch.inference_mode():
        ref = model(x).numpy()
    (onnx_out,) = ort.InferenceSession(str(out.with_suffix(".onnx")), providers=["CPUExecutionProvider"]).run(
        None, {"rgb": x.numpy()})
    assert np.abs(onnx_out - ref).max() < 1e-4


def test_zero_reference_losses_behave():
    x = torch.full((1, 3, 32, 32), 0.1)
    assert train.loss_exposure(torch.full_like(x, 0.6)) < 1e-9 < train.loss_exposure(x)
    grey, tinted = torch.full_like(x, 0.5), torch.full_like(x, 0.5)
    tinted[:, 0] = 0.8
    assert train.loss_colour(grey) < 1e-5 < train.loss_colour(tinted)
    assert train.loss_spatial(x, x * 2) < 1e-9  # flat stays flat
    ramp = torch.linspace(0, 1, 32).repeat(1, 3, 32, 1)
    assert train.loss_spatial(ramp, torch.zeros_like(ramp)) > 0
    assert train.loss_tv(torch.zeros(1, 3, 8, 8)) == 0 < train.loss_tv(torch.rand(1, 3, 8, 8))
