"""The NAS-Bench-101 data files, read and written without TensorFlow or protoc.

Three nested formats (official ``nasbench/api.py`` and ``lib/model_metrics.proto``):

1. **TFRecord framing** (TensorFlow ``tf_record_iterator``): each record is::

       uint64 length | uint32 masked_crc32c(length bytes) | data[length] | uint32 masked_crc32c(data)

   little-endian; ``masked(c) = ((c >> 15) | (c << 17)) + 0xa282ead8  (mod 2^32)`` with ``c`` the
   CRC-32C (Castagnoli, reflected polynomial 0x82F63B78). Both CRCs are verified, as TensorFlow does.
2. **Row**: UTF-8 JSON list ``[module_hash, epochs, raw_adjacency, raw_operations, raw_metrics]``
   where ``raw_metrics`` is base64 of a serialized ``ModelMetrics`` protobuf.
3. **Protobuf** (proto2, wire format): ``ModelMetrics { repeated EvaluationData evaluation_data = 1;
   optional int32 trainable_parameters = 2; optional double total_time = 3; }`` and
   ``EvaluationData { optional double current_epoch = 1; training_time = 2; train_accuracy = 3;
   validation_accuracy = 4; test_accuracy = 5; optional string checkpoint_path = 6; }``.
   ``evaluation_data`` holds 3 entries: at initialisation, halfway, and at the end of training.
"""
from __future__ import annotations

import base64
import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterator, List, Optional, Tuple, Union

from nwot.errors import BenchmarkFileError

# --- CRC-32C ----------------------------------------------------------------------------------------

CRC32C_POLY = 0x82F63B78  # reflected Castagnoli polynomial
MASK_DELTA = 0xA282EAD8


def _make_table() -> Tuple[int, ...]:
    table = []
    for byte in range(256):
        c = byte
        for _ in range(8):
            c = (c >> 1) ^ CRC32C_POLY if c & 1 else c >> 1
        table.append(c)
    return tuple(table)


_TABLE = _make_table()


def crc32c(data: bytes, crc: int = 0) -> int:
    """CRC-32C of ``data`` (table-driven, one byte per step; ``crc32c(b"123456789") == 0xE3069283``)."""
    c = crc ^ 0xFFFFFFFF
    table = _TABLE
    for b in data:
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked CRC: rotate right by 15 bits, add 0xa282ead8 (mod 2^32)."""
    c = crc32c(data)
    return ((((c >> 15) | (c << 17)) & 0xFFFFFFFF) + MASK_DELTA) & 0xFFFFFFFF


# --- TFRecord framing -----------------------------------------------------------------------------

def tfrecord_frame(data: bytes) -> bytes:
    """One framed record (module docstring, item 1)."""
    length = struct.pack("<Q", len(data))
    return length + struct.pack("<I", masked_crc32c(length)) + data + struct.pack("<I", masked_crc32c(data))


def write_tfrecord(path: Union[str, Path], records) -> int:
    """Write ``records`` (an iterable of bytes) as a TFRecord file; returns the number written."""
    n = 0
    with open(path, "wb") as f:
        for data in records:
            f.write(tfrecord_frame(data))
            n += 1
    return n


def iter_tfrecord(f: BinaryIO, *, verify: bool = True, name: str = "tfrecord") -> Iterator[bytes]:
    """Yield the data of each record of an open binary file; corrupt or truncated framing raises
    :class:`BenchmarkFileError` naming the record number and byte offset."""
    index = 0
    while True:
        offset = f.tell()
        header = f.read(12)
        if not header:
            return
        if len(header) < 12:
            raise BenchmarkFileError(f"{name}: truncated record header at byte {offset} (record {index})")
        length_bytes, (length_crc,) = header[:8], struct.unpack("<I", header[8:])
        if verify and masked_crc32c(length_bytes) != length_crc:
            raise BenchmarkFileError(f"{name}: corrupt length CRC of record {index} at byte {offset} "
                                     f"(stored {length_crc:#010x}, computed {masked_crc32c(length_bytes):#010x})")
        (length,) = struct.unpack("<Q", length_bytes)
        data = f.read(length)
        footer = f.read(4)
        if len(data) < length or len(footer) < 4:
            raise BenchmarkFileError(f"{name}: truncated record {index} at byte {offset} (expected {length} bytes)")
        (data_crc,) = struct.unpack("<I", footer)
        if verify and masked_crc32c(data) != data_crc:
            raise BenchmarkFileError(f"{name}: corrupt data CRC of record {index} at byte {offset} "
                                     f"(stored {data_crc:#010x}, computed {masked_crc32c(data):#010x})")
        yield data
        index += 1


# --- protobuf wire format ---------------------------------------------------------------------------

VARINT, I64, LEN, I32 = 0, 1, 2, 5


@dataclass(frozen=True)
class EvaluationData:
    current_epoch: float = 0.0
    training_time: float = 0.0  # seconds of training up to this point (no evaluation time)
    train_accuracy: float = 0.0  # fraction, on a fixed 10k images of the training set
    validation_accuracy: float = 0.0  # fraction, held-out 10k validation images
    test_accuracy: float = 0.0  # fraction, the 10k CIFAR-10 test set
    checkpoint_path: str = ""


@dataclass(frozen=True)
class ModelMetrics:
    evaluation_data: Tuple[EvaluationData, ...] = field(default_factory=tuple)
    trainable_parameters: int = 0
    total_time: float = 0.0


_EVAL_DOUBLES = {1: "current_epoch", 2: "training_time", 3: "train_accuracy", 4: "validation_accuracy",
                 5: "test_accuracy"}


def _read_varint(buf: bytes, pos: int) -> Tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint longer than 10 bytes")


def _write_varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int32 -> 10-byte two's complement, as protobuf does
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        if value:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _fields(buf: bytes) -> Iterator[Tuple[int, int, object]]:
    """Yield ``(field_number, wire_type, value)``; LEN values are bytes, I64/I32 raw bytes, VARINT ints."""
    pos = 0
    while pos < len(buf):
        key, pos = _read_varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == VARINT:
            value, pos = _read_varint(buf, pos)
        elif wire == I64:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == LEN:
            n, pos = _read_varint(buf, pos)
            value, pos = buf[pos:pos + n], pos + n
        elif wire == I32:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire} (field {number})")
        if pos > len(buf):
            raise ValueError(f"truncated protobuf field {number}")
        yield number, wire, value


def _double(wire: int, value, name: str) -> float:
    if wire != I64:
        raise ValueError(f"field {name} must be a double (wire type 1), got wire type {wire}")
    return struct.unpack("<d", value)[0]


def decode_evaluation_data(buf: bytes) -> EvaluationData:
    kw = {}
    for number, wire, value in _fields(buf):
        if number in _EVAL_DOUBLES:
            kw[_EVAL_DOUBLES[number]] = _double(wire, value, _EVAL_DOUBLES[number])
        elif number == 6 and wire == LEN:
            kw["checkpoint_path"] = bytes(value).decode("utf-8")
    return EvaluationData(**kw)


def decode_model_metrics(buf: bytes) -> ModelMetrics:
    """Parse a serialized ``ModelMetrics`` (unknown fields are skipped, as protobuf does)."""
    evals: List[EvaluationData] = []
    params, total = 0, 0.0
    for number, wire, value in _fields(buf):
        if number == 1 and wire == LEN:
            evals.append(decode_evaluation_data(value))
        elif number == 2 and wire == VARINT:
            params = value - (1 << 64) if value >= 1 << 63 else value
        elif number == 3:
            total = _double(wire, value, "total_time")
    return ModelMetrics(tuple(evals), params, total)


def _key(number: int, wire: int) -> bytes:
    return _write_varint((number << 3) | wire)


def encode_evaluation_data(e: EvaluationData) -> bytes:
    out = bytearray()
    for number, name in _EVAL_DOUBLES.items():
        out += _key(number, I64) + struct.pack("<d", getattr(e, name))
    if e.checkpoint_path:
        raw = e.checkpoint_path.encode("utf-8")
        out += _key(6, LEN) + _write_varint(len(raw)) + raw
    return bytes(out)


def encode_model_metrics(m: ModelMetrics) -> bytes:
    """Serialize a ``ModelMetrics`` in field order (what ``SerializeToString`` writes)."""
    out = bytearray()
    for e in m.evaluation_data:
        body = encode_evaluation_data(e)
        out += _key(1, LEN) + _write_varint(len(body)) + body
    out += _key(2, VARINT) + _write_varint(m.trainable_parameters)
    out += _key(3, I64) + struct.pack("<d", m.total_time)
    return bytes(out)


# --- rows -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    """One training run: ``[module_hash, epochs, raw_adjacency, raw_operations, base64(ModelMetrics)]``."""

    module_hash: str
    epochs: int
    raw_adjacency: str
    raw_operations: str
    metrics: ModelMetrics


def parse_row(data: bytes) -> Row:
    try:
        module_hash, epochs, adjacency, operations, raw = json.loads(data.decode("utf-8"))
        metrics = decode_model_metrics(base64.b64decode(raw))
    except (ValueError, TypeError) as e:
        raise BenchmarkFileError(f"malformed NAS-Bench-101 row ({e}): {data[:120]!r}") from e
    return Row(str(module_hash), int(epochs), str(adjacency), str(operations), metrics)


def format_row(row: Row) -> bytes:
    raw = base64.b64encode(encode_model_metrics(row.metrics)).decode("ascii")
    return json.dumps([row.module_hash, row.epochs, row.raw_adjacency, row.raw_operations, raw]).encode("utf-8")


def iter_rows(path: Union[str, Path], *, verify: bool = True, progress: Optional[object] = None) -> Iterator[Row]:
    """Parse every row of a NAS-Bench-101 ``.tfrecord``; ``progress(n_bytes)`` is called per record."""
    with open(path, "rb") as f:
        last = 0
        for data in iter_tfrecord(f, verify=verify, name=str(path)):
            if progress is not None:
                pos = f.tell()
                progress(pos - last)
                last = pos
            yield parse_row(data)
