#!/usr/bin/env python3
"""Write a tiny llama-architecture GGUF model with random weights.

For the optional node-llama-cpp test: a real llama.cpp engine loads it and
generates (noise), which proves the protocol path and the fallback, not
quality. Python 3 stdlib only; deterministic for a given --seed.

GGUF v3 layout (ggml/docs/gguf.md): header, metadata key/values, tensor
infos, padding to general.alignment, tensor data (F32 here).

Usage: make_tiny_gguf.py OUT.gguf [--seed N]
"""
import random
import struct
import sys

N_EMBD = 64
N_HEAD = 4
N_FF = 128
N_LAYER = 1
N_CTX = 8192
ALIGN = 32

# GGUF value types
U32, I32, F32, STR, ARR = 4, 5, 6, 8, 9


def gstr(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def kv(key, vtype, value, elem_type=None):
    out = gstr(key) + struct.pack("<I", vtype)
    if vtype == U32:
        out += struct.pack("<I", value)
    elif vtype == I32:
        out += struct.pack("<i", value)
    elif vtype == F32:
        out += struct.pack("<f", value)
    elif vtype == STR:
        out += gstr(value)
    elif vtype == ARR:
        out += struct.pack("<IQ", elem_type, len(value))
        for v in value:
            if elem_type == STR:
                out += gstr(v)
            elif elem_type == F32:
                out += struct.pack("<f", v)
            elif elem_type == I32:
                out += struct.pack("<i", v)
    return out


def vocab():
    """SentencePiece-style vocabulary with byte fallback."""
    tokens, scores, types = ["<unk>", "<s>", "</s>"], [0.0, 0.0, 0.0], [2, 3, 3]
    for b in range(256):
        tokens.append("<0x%02X>" % b)
        scores.append(0.0)
        types.append(6)
    pieces = ["\u2581"] + list("{}[]\":,") + \
        ["\u2581" + w for w in ("image", "command", "notes", "env", "python",
                                "bash", "train", "the", "a", "to")] + \
        list("abcdefghijklmnopqrstuvwxyz0123456789")
    for i, p in enumerate(pieces):
        tokens.append(p)
        scores.append(-float(i + 1))
        types.append(1)
    return tokens, scores, types


def main(argv):
    if not argv:
        print(__doc__)
        return 2
    out = argv[0]
    seed = int(argv[argv.index("--seed") + 1]) if "--seed" in argv else 1
    rnd = random.Random(seed)
    tokens, scores, types = vocab()
    n_vocab = len(tokens)

    meta = [
        kv("general.architecture", STR, "llama"),
        kv("general.name", STR, "s2r-tiny-random"),
        kv("general.alignment", U32, ALIGN),
        kv("general.file_type", U32, 0),
        kv("llama.context_length", U32, N_CTX),
        kv("llama.embedding_length", U32, N_EMBD),
        kv("llama.block_count", U32, N_LAYER),
        kv("llama.feed_forward_length", U32, N_FF),
        kv("llama.rope.dimension_count", U32, N_EMBD // N_HEAD),
        kv("llama.attention.head_count", U32, N_HEAD),
        kv("llama.attention.head_count_kv", U32, N_HEAD),
        kv("llama.attention.layer_norm_rms_epsilon", F32, 1e-5),
        kv("tokenizer.ggml.model", STR, "llama"),
        kv("tokenizer.ggml.tokens", ARR, tokens, STR),
        kv("tokenizer.ggml.scores", ARR, scores, F32),
        kv("tokenizer.ggml.token_type", ARR, types, I32),
        kv("tokenizer.ggml.bos_token_id", U32, 1),
        kv("tokenizer.ggml.eos_token_id", U32, 2),
        kv("tokenizer.ggml.unknown_token_id", U32, 0),
    ]

    # (name, dims in ggml order: fastest first)
    tensors = [("token_embd.weight", [N_EMBD, n_vocab])]
    for i in range(N_LAYER):
        p = "blk.%d." % i
        tensors += [
            (p + "attn_norm.weight", [N_EMBD]),
            (p + "attn_q.weight", [N_EMBD, N_EMBD]),
            (p + "attn_k.weight", [N_EMBD, N_EMBD]),
            (p + "attn_v.weight", [N_EMBD, N_EMBD]),
            (p + "attn_output.weight", [N_EMBD, N_EMBD]),
            (p + "ffn_norm.weight", [N_EMBD]),
            (p + "ffn_gate.weight", [N_EMBD, N_FF]),
            (p + "ffn_down.weight", [N_FF, N_EMBD]),
            (p + "ffn_up.weight", [N_EMBD, N_FF]),
        ]
    tensors += [("output_norm.weight", [N_EMBD]),
                ("output.weight", [N_EMBD, n_vocab])]

    infos, blobs, offset = b"", [], 0
    for name, dims in tensors:
        n = 1
        for d in dims:
            n *= d
        if name.endswith("norm.weight"):
            data = struct.pack("<%df" % n, *([1.0] * n))
        else:
            data = struct.pack("<%df" % n, *(rnd.gauss(0.0, 0.08) for _ in range(n)))
        infos += gstr(name) + struct.pack("<I", len(dims)) + \
            b"".join(struct.pack("<Q", d) for d in dims) + \
            struct.pack("<IQ", 0, offset)
        pad = (-len(data)) % ALIGN
        blobs.append(data + b"\0" * pad)
        offset += len(data) + pad

    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(meta)) + b"".join(meta) + infos
    head += b"\0" * ((-len(head)) % ALIGN)
    with open(out, "wb") as f:
        f.write(head)
        for b in blobs:
            f.write(b)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
