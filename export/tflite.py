"""One TFLite graph per run: standardized eGeMAPS -> encoder -> latent -> SVC scores, activation.

Post-training static quantization (litert-torch PT2E), calibrated on the run's standardized
training features, of the encoder's wide 88 -> h layer: its input, per-channel int8 weights and
output. Tanh, the h -> 2 layer and the two heads (25 parameters) stay float32, so the 2-D latent
and the near-tied SVC scores are not rounded to int8 steps: full int8 flipped 2-4 % of the
decisions against float on the bundled models. Two kinds:

- ``int8``: that layer's input and output in int8. Its input step (8/255 of a z-score, the
  device clips at +-4) is most of what remains of the error; it flipped 1.1-1.2 % of the windows
  of unseen speakers on models trained with child-like copies (argmax agreement 0.988 < 0.99).
- ``int16x8`` (TFLite's 16x8 mode): the same int8 weights, the layer's input and output in int16
  (a step 256 times finer); the same size and parameters, and what the bundled models use. The
  converter writes that layer with an int32 bias (FULLY_CONNECTED version 11, newer runtimes only);
  ``older_runtime_form`` rewrites it with the int64 bias of the original 16x8 kernel (version 7)
  so ``tflite-runtime`` 2.14, the last on PyPI and what some Pi images ship, loads it too.

Standardization stays outside the graph (baking raw-feature scaling into int8 was
measured to destroy accuracy); the device normalizes in float.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import logging
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from serdevice.device.stream.contracts import N_FEATURES, RuntimeFailure
from serdevice.train.heads import Heads

# forward() returns (latent, scores, activation); litert-torch names outputs by that order.
OUTPUT_ORDER = ("latent", "scores", "activation")


class ExportGraph(nn.Module):
    """Encoder plus the two linear heads, as one module with three outputs."""

    def __init__(self, encoder: nn.Module, heads: Heads) -> None:
        super().__init__()
        self.encoder = encoder
        self.svc = nn.Linear(2, len(heads.labels))
        self.activation = nn.Linear(2, 1)
        with torch.no_grad():
            self.svc.weight.copy_(torch.as_tensor(heads.svc_coef, dtype=torch.float32))
            self.svc.bias.copy_(torch.as_tensor(heads.svc_intercept, dtype=torch.float32))
            self.activation.weight.copy_(
                torch.as_tensor(heads.activation_coef, dtype=torch.float32).reshape(1, 2)
            )
            self.activation.bias.fill_(float(heads.activation_intercept))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        z = self.encoder(x)
        return z, self.svc(z), self.activation(z)


@contextlib.contextmanager
def _quiet() -> Any:
    """litert-torch, torchao and TF's C++ logging talk a lot, some of it straight to file
    descriptors 1 and 2; capture all of it so the CLI's output stays ours (kept for errors)."""
    buffer = io.StringIO()
    with tempfile.TemporaryFile(mode="w+b") as captured:
        saved = [os.dup(1), os.dup(2)]
        logging.disable(logging.WARNING)
        try:
            for fd in (1, 2):
                os.dup2(captured.fileno(), fd)
            with warnings.catch_warnings(), contextlib.redirect_stdout(buffer), \
                    contextlib.redirect_stderr(buffer):  # fmt: skip
                warnings.simplefilter("ignore")
                yield buffer
        finally:
            for fd, copy in zip((1, 2), saved, strict=True):
                os.dup2(copy, fd)
                os.close(copy)
            captured.seek(0)
            buffer.write(captured.read().decode(errors="replace"))
            logging.disable(logging.NOTSET)


def convert(graph: ExportGraph, representative: np.ndarray, *, quantization: str) -> bytes:
    """The .tflite bytes of ``graph`` (PT2E static int8 or int16x8, or float32)."""
    graph = graph.eval()
    example = (torch.zeros(1, N_FEATURES),)
    with _quiet() as log:
        try:
            import litert_torch

            if quantization == "float32":
                edge = litert_torch.convert(graph, example)
            else:
                edge = _convert_quantized(graph, example, representative, quantization)
            with tempfile.TemporaryDirectory(prefix="serdevice-export-") as tmp:
                path = Path(tmp) / "model.tflite"
                edge.export(str(path))
                model_bytes = path.read_bytes()
            return older_runtime_form(model_bytes) if quantization == "int16x8" else model_bytes
        except Exception as exc:  # noqa: BLE001 - the converter's errors are many and deep
            tail = log.getvalue().strip().splitlines()[-1:] or [""]
            raise RuntimeFailure(f"TFLite conversion failed: {exc} {tail[0]}".strip()) from None


# The one layer that runs in int8: the encoder's wide 88 -> h layer (352 of the 378 parameters
# and nearly all the multiplies). Its output feeds tanh, so its int8 range is capped where tanh
# saturates (tanh(3) = 0.995): the measured pre-tanh range reached +-10, and a step of 10/128 in
# front of a 2-D latent flipped 0.9-1.4 % of the near-tied SVC decisions.
INT8_MODULE = "encoder.hidden"
TANH_INPUT_CAP = 3.0


def _convert_quantized(
    graph: nn.Module, example: tuple[torch.Tensor], representative: np.ndarray, quantization: str
) -> Any:
    import litert_torch
    from litert_torch.quantize import pt2e_quantizer, quant_config
    from torchao.quantization.pt2e import quantize_pt2e

    quantizer = _wide_layer_quantizer(pt2e_quantizer, quantization)
    module = torch.export.export(graph, example).module()
    module = quantize_pt2e.prepare_pt2e(module, quantizer)
    with torch.no_grad():
        for row in np.asarray(representative, dtype=np.float32):
            module(torch.as_tensor(row[None, :]))
    module = quantize_pt2e.convert_pt2e(module, fold_quantize=False)
    return litert_torch.convert(module, example,
                                quant_config=quant_config.QuantConfig(pt2e_quantizer=quantizer))  # fmt: skip


def in_module(node: Any, name: str) -> bool:
    """Whether an exported graph node was traced inside the submodule ``name`` (or below it)."""
    stack = node.meta.get("nn_module_stack", {}).values()
    return any(fqn == name or str(fqn).startswith(name + ".") for fqn, _ in stack)


def _wide_layer_quantizer(pt2e_quantizer: Any, quantization: str) -> Any:
    """A PT2E quantizer that annotates only ``INT8_MODULE``; everything after it stays float.

    litert-torch's own ``set_module_name`` filter does not match torch 2.13's module-stack keys
    (it quantized nothing), so the annotation is filtered here by fully qualified name.
    """
    from litert_torch.quantize.pt2e_quantizer_utils import propagate_annotation

    class WideLayerQuantizer(pt2e_quantizer.PT2EQuantizer):  # type: ignore[misc, name-defined]
        def annotate(self, model: torch.fx.GraphModule) -> torch.fx.GraphModule:
            self._annotate_all_static_patterns(
                model, self.global_config, lambda node: in_module(node, INT8_MODULE)
            )
            propagate_annotation(model)
            return model

    return WideLayerQuantizer().set_global(_layer_config(pt2e_quantizer, quantization))


def _layer_config(pt2e_quantizer: Any, quantization: str) -> Any:
    """Per-channel symmetric int8 weights; min/max observers for the input, capped for the output.

    The default histogram observer trims the tails of a range (it clipped the activation output
    near 5 when the heads were int8); min/max keeps the input's whole calibrated range, which the
    device's z-score clip (+-4) bounds. For ``int16x8`` both activations are int16 with zero point
    0, as TFLite's 16x8 kernels require.
    """
    from torchao.quantization.pt2e.observer import MinMaxObserver

    class CappedMinMaxObserver(MinMaxObserver):  # type: ignore[misc]
        """Min/max of the values clamped to +-TANH_INPUT_CAP (the int8 range saturates there)."""

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            super().forward(x.clamp(-TANH_INPUT_CAP, TANH_INPUT_CAP))
            return x

    config = pt2e_quantizer.get_symmetric_quantization_config(is_per_channel=True)
    observed = dataclasses.replace(
        config.input_activation, observer_or_fake_quant_ctr=MinMaxObserver.with_args(eps=2**-12)
    )
    capped = dataclasses.replace(
        config.output_activation,
        observer_or_fake_quant_ctr=CappedMinMaxObserver.with_args(eps=2**-12),
    )
    if quantization == "int16x8":
        wide = {"dtype": torch.int16, "quant_min": -32767, "quant_max": 32767,
                "qscheme": torch.per_tensor_symmetric}  # fmt: skip
        observed = dataclasses.replace(observed, **wide)
        capped = dataclasses.replace(capped, **wide)
    return dataclasses.replace(config, input_activation=observed, output_activation=capped)


# FULLY_CONNECTED with int16 activations, int8 weights and an int64 bias: the 16x8 kernel's
# original form; version 11 (an int32 bias), which litert-torch writes, is unknown to
# tflite-runtime 2.14 ("Didn't find op for builtin opcode 'FULLY_CONNECTED' version '11'").
FC_INT16_VERSION = 7


def older_runtime_form(model_bytes: bytes) -> bytes:
    """The same graph with each int16 FULLY_CONNECTED's int32 bias widened to int64.

    The values do not change (the bias scale is input scale x weight scale either way); the op
    code's version drops to FC_INT16_VERSION, which also covers the float FULLY_CONNECTEDs that
    share it (keep_num_dims needs version 5). Outputs move by at most ~4e-4 (the int64 path
    rounds its accumulator once more); parity is measured on the rewritten bytes.
    """
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(bytearray(model_bytes), 0)
    changed = False
    for graph in model.subgraphs:
        for op in graph.operators:
            code = model.operatorCodes[op.opcodeIndex]
            if (
                max(code.builtinCode, code.deprecatedBuiltinCode)
                != schema.BuiltinOperator.FULLY_CONNECTED
            ):
                continue
            x = graph.tensors[op.inputs[0]]
            bias = graph.tensors[op.inputs[2]] if len(op.inputs) > 2 and op.inputs[2] >= 0 else None
            if x.type != schema.TensorType.INT16 or bias is None:
                continue
            if bias.type == schema.TensorType.INT32:
                buffer = model.buffers[bias.buffer]
                values = np.frombuffer(bytes(bytearray(buffer.data)), dtype="<i4")
                buffer.data = np.frombuffer(values.astype("<i8").tobytes(), dtype=np.uint8)
                bias.type = schema.TensorType.INT64
            op.builtinOptions.quantizedBiasType = 0
            code.version = FC_INT16_VERSION
            changed = True
    if not changed:
        return model_bytes
    builder = flatbuffers.Builder(len(model_bytes) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def output_map(model_bytes: bytes) -> dict[str, dict[str, Any]]:
    """Sidecar ``outputs``: name -> index in the interpreter's outputs, tensor name, shape."""
    from serdevice.device.stream.model import open_interpreter

    interpreter, _ = open_interpreter(model_bytes)
    details = interpreter.get_output_details()
    by_name = {d["name"]: (i, d) for i, d in enumerate(details)}
    out = {}
    for position, name in enumerate(OUTPUT_ORDER):
        tensor = f"serving_default_output_{position}_output"
        if tensor not in by_name:
            tensor = details[position]["name"]  # other converters name outputs differently
        index, detail = by_name[tensor]
        out[name] = {"index": index, "name": tensor, "shape": [int(d) for d in detail["shape"]]}
    return out


def io_dtypes(model_bytes: bytes, outputs: dict[str, dict[str, Any]]) -> dict[str, str]:
    """The dtype of the graph's input and of each named output, as the interpreter reports it."""
    from serdevice.device.stream.model import open_interpreter

    interpreter, _ = open_interpreter(model_bytes)
    details = interpreter.get_output_details()
    found = {"input": interpreter.get_input_details()[0]["dtype"]}
    found.update({name: details[spec["index"]]["dtype"] for name, spec in outputs.items()})
    return {name: np.dtype(dtype).name for name, dtype in found.items()}
