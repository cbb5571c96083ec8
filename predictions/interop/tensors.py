"""Open Inference Protocol V2 tensors: JSON and the binary tensor data extension, to and from feature rows.

A request names its tensors either one per feature (shape [N] or [N, 1]; BYTES for categorical labels such as
cut="Ideal") or as one numeric tensor of shape [N, n_features] in the schema's column order, where a categorical
column holds its ordinal code, worst first (cut: Fair=0 … Ideal=4, as the legacy endpoint). Binary data (the
extension stock clients such as tritonclient use by default) is little-endian, row-major; a BYTES element is a
4-byte little-endian length and then its bytes.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np

from ml import CategoryFeature, Feature, FeatureSchema

NUMERIC = {
    "BOOL": np.bool_, "UINT8": np.uint8, "UINT16": np.uint16, "UINT32": np.uint32, "UINT64": np.uint64,
    "INT8": np.int8, "INT16": np.int16, "INT32": np.int32, "INT64": np.int64, "FP16": np.float16,
    "FP32": np.float32, "FP64": np.float64,
}
DATATYPES = (*NUMERIC, "BYTES")
MAX_ROWS_PER_TENSOR = 1_000_000
MAX_NAME = 64  # a tensor name is echoed in errors and records: no feature name is longer


def datatype_of(feature: Feature) -> str:
    """The V2 datatype a client sends for ``feature`` (metadata and per-feature tensors)."""
    return {"category": "BYTES", "boolean": "BOOL", "integer": "INT64"}.get(feature.kind, "FP64")


class TensorError(ValueError):
    """The request's tensors cannot be read as the model's inputs; the message says why."""


@dataclass
class Tensor:
    name: str
    datatype: str
    shape: list[int]
    values: list[Any]  # flat, row-major


# --- reading ------------------------------------------------------------------------------------------------------
def split_body(body: bytes, header_length: str | None) -> tuple[bytes, bytes]:
    """The JSON part and the binary part of a request (Inference-Header-Content-Length)."""
    if header_length is None:
        return body, b""
    try:
        length = int(header_length)
    except ValueError:
        raise TensorError("Inference-Header-Content-Length must be an integer.") from None
    if not 0 <= length <= len(body):
        raise TensorError(f"Inference-Header-Content-Length {length} is outside the body ({len(body)} bytes).")
    return body[:length], body[length:]


def read_inputs(request: dict, binary: bytes) -> list[Tensor]:
    inputs = request.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise TensorError("'inputs' must be a non-empty list of tensors.")
    tensors, offset = [], 0
    for index, spec in enumerate(inputs):
        if not isinstance(spec, dict):
            raise TensorError(f"inputs[{index}] must be an object with name, shape, datatype and data.")
        name, datatype, shape = spec.get("name"), spec.get("datatype"), spec.get("shape")
        if not isinstance(name, str) or not name:
            raise TensorError(f"inputs[{index}] needs a name.")
        if len(name) > MAX_NAME:
            raise TensorError(f"inputs[{index}]: a name of {len(name):,} characters is longer than any feature's.")
        if datatype not in DATATYPES:
            raise TensorError(f"Input '{name}': datatype must be one of {', '.join(DATATYPES)}.")
        if (not isinstance(shape, list) or not 1 <= len(shape) <= 2
                or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)):
            raise TensorError(f"Input '{name}': shape must be [N] or [N, k] with non-negative integers.")
        count = math.prod(shape)
        if count > MAX_ROWS_PER_TENSOR:
            raise TensorError(f"Input '{name}': {count} elements is more than this server accepts.")
        parameters = spec.get("parameters") or {}
        if not isinstance(parameters, dict):
            raise TensorError(f"Input '{name}': parameters must be an object.")
        size = parameters.get("binary_data_size")
        if size is not None:
            if not isinstance(size, int) or isinstance(size, bool) or size < 0 or offset + size > len(binary):
                raise TensorError(f"Input '{name}': binary_data_size does not fit the binary part of the body.")
            values = _decode_binary(name, datatype, binary[offset:offset + size], count)
            offset += size
        else:
            if "data" not in spec:
                raise TensorError(f"Input '{name}' has no data.")
            values = _flatten(spec["data"])
        if len(values) != count:
            raise TensorError(f"Input '{name}': shape {shape} needs {count} values, got {len(values)}.")
        tensors.append(Tensor(name, datatype, shape, values))
    if offset != len(binary):
        raise TensorError("The binary part of the body is longer than the inputs' binary_data_size.")
    return tensors


def _flatten(data: Any) -> list[Any]:
    if not isinstance(data, list):
        return [data]
    flat: list[Any] = []
    stack = [iter(data)]
    while stack:
        for item in stack[-1]:
            if isinstance(item, list):
                if len(stack) > 4:
                    raise TensorError("Tensor data is nested too deeply.")
                stack.append(iter(item))
                break
            flat.append(item)
        else:
            stack.pop()
    return flat


def _decode_binary(name: str, datatype: str, raw: bytes, count: int) -> list[Any]:
    if datatype == "BYTES":
        values, position = [], 0
        while position < len(raw):
            if position + 4 > len(raw):
                raise TensorError(f"Input '{name}': truncated BYTES element.")
            (length,) = struct.unpack_from("<I", raw, position)
            position += 4
            if position + length > len(raw):
                raise TensorError(f"Input '{name}': truncated BYTES element.")
            try:
                values.append(raw[position:position + length].decode("utf-8"))
            except UnicodeDecodeError:
                raise TensorError(f"Input '{name}': BYTES elements must be UTF-8 text.") from None
            position += length
        return values
    dtype = np.dtype(NUMERIC[datatype]).newbyteorder("<")
    if len(raw) != count * dtype.itemsize:
        raise TensorError(f"Input '{name}': {len(raw)} bytes is not {count} {datatype} values.")
    array = np.frombuffer(raw, dtype=dtype)
    if datatype in ("FP16", "FP32"):
        # The shortest decimal that rounds to the same float32 (5.9, not 5.900000095367432): what the client meant.
        return [float(str(value)) for value in array]
    return array.tolist()


def rows_from_tensors(tensors: list[Tensor], schema: FeatureSchema) -> list[dict[str, Any]]:
    """Feature rows (the JSON objects the schema validates) from per-feature tensors or one [N, k] tensor."""
    if len(tensors) == 1 and len(tensors[0].shape) == 2 and tensors[0].shape[1] > 1:
        return _rows_from_matrix(tensors[0], schema)
    accepted = set(schema.accepted_names)
    unknown = [t.name for t in tensors if t.name not in accepted]
    if unknown:
        shown = ", ".join(unknown[:5]) + (f" and {len(unknown) - 5:,} more" if len(unknown) > 5 else "")
        raise TensorError(f"Unknown input(s) {shown}; expected one tensor per feature "
                          f"({', '.join(schema.accepted_names)}) or one [N, {len(schema.features)}] tensor.")
    if len({t.name for t in tensors}) != len(tensors):
        raise TensorError("Each input may be given only once.")
    lengths = set()
    for tensor in tensors:
        if len(tensor.shape) == 2 and tensor.shape[1] != 1:
            raise TensorError(f"Input '{tensor.name}': a per-feature tensor has shape [N] or [N, 1].")
        lengths.add(tensor.shape[0])
    if len(lengths) != 1:
        raise TensorError("Every input tensor must have the same number of rows.")
    (count,) = lengths
    if count == 0:
        raise TensorError("The inputs have no rows.")
    return [{t.name: t.values[i] for t in tensors} for i in range(count)]


def _rows_from_matrix(tensor: Tensor, schema: FeatureSchema) -> list[dict[str, Any]]:
    features = schema.features
    rows, width = tensor.shape
    if width != len(features):
        raise TensorError(f"Input '{tensor.name}': a single tensor has shape [N, {len(features)}] "
                          f"({', '.join(schema.names)}), got {tensor.shape}.")
    if tensor.datatype not in NUMERIC or tensor.datatype == "BOOL":
        raise TensorError(f"Input '{tensor.name}': a single [N, {width}] tensor must be numeric (FP32, FP64, INT*); "
                          "categorical columns hold their ordinal codes.")
    if rows == 0:
        raise TensorError("The inputs have no rows.")
    out = []
    for r in range(rows):
        row: dict[str, Any] = {}
        for c, feature in enumerate(features):
            value = tensor.values[r * width + c]
            if isinstance(feature, CategoryFeature):
                value = _category(feature, value)
            elif feature.kind == "boolean" and value in (0, 1):
                value = bool(value)
            row[feature.name] = value
        out.append(row)
    return out


def _category(feature: CategoryFeature, code: Any) -> Any:
    if isinstance(code, float) and code.is_integer():
        code = int(code)
    if isinstance(code, int) and 0 <= code < len(feature.choices):
        return feature.choices[code]
    return code  # refused by validation with the feature's own message


# --- writing ------------------------------------------------------------------------------------------------------
def encode_response(response: dict, outputs: list[dict], binary_names: set[str]) -> tuple[bytes, int | None]:
    """The response body; outputs named in ``binary_names`` go in the binary part. Returns (body, json_length)
    where json_length is None for a plain JSON body."""
    chunks: list[bytes] = []
    for output in outputs:
        if output["name"] in binary_names:
            raw = _encode_binary(output["datatype"], output.pop("data"))
            output.setdefault("parameters", {})["binary_data_size"] = len(raw)
            chunks.append(raw)
    header = json.dumps({**response, "outputs": outputs}, separators=(",", ":")).encode()
    if not chunks:
        return header, None
    return header + b"".join(chunks), len(header)


def _encode_binary(datatype: str, data: list[Any]) -> bytes:
    if datatype == "BYTES":
        return b"".join(struct.pack("<I", len(b)) + b for b in (str(v).encode("utf-8") for v in data))
    return np.asarray(data, dtype=np.dtype(NUMERIC[datatype]).newbyteorder("<")).tobytes()
