"""Generator of tests/data/nds/*.json: real NDS record schema, synthetic numbers (see README.md).

Run from anywhere: ``python tests/data/nds/make_fixtures.py`` rewrites the fixture files (deterministic:
``random.Random(2019)``).
"""
import json
import random
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent
sys.path.insert(0, str(OUT.parents[2]))
from nwot.spaces.nds.cell_model import SPACE_NODES, SPACE_OPS  # noqa: E402

EPOCHS = 5
CELL_SPACES = ["Amoeba", "DARTS", "ENAS", "NASNet", "PNAS"]
#: DARTS-V2 (Liu et al., ICLR 2019) as record 3 of DARTS.json.
DARTS_V2 = {"normal": [["sep_conv_3x3", 0], ["sep_conv_3x3", 1], ["sep_conv_3x3", 0], ["sep_conv_3x3", 1],
                       ["sep_conv_3x3", 1], ["skip_connect", 0], ["skip_connect", 0], ["dil_conv_3x3", 2]],
            "normal_concat": [2, 3, 4, 5],
            "reduce": [["max_pool_3x3", 0], ["max_pool_3x3", 1], ["skip_connect", 2], ["max_pool_3x3", 1],
                       ["max_pool_3x3", 0], ["skip_connect", 2], ["skip_connect", 2], ["max_pool_3x3", 1]],
            "reduce_concat": [2, 3, 4, 5]}


def anynet(block, ds, ws, bot_muls=(), num_gs=()):
    return {"block_type": block, "bot_muls": list(bot_muls), "ds": ds, "num_gs": list(num_gs), "ss": [1, 2, 2],
            "ws": ws}


ANYNET_NETS = {
    "ResNet": [anynet("res_basic_block", ds, ws) for ds, ws in
               (([1, 1, 1], [8, 16, 32]), ([2, 1, 1], [16, 16, 24]), ([1, 2, 1], [8, 24, 32]),
                ([1, 1, 2], [12, 16, 40]))],
    "ResNeXt-A": [anynet("res_bottleneck_block", *a) for a in
                  (([1, 1, 1], [16, 32, 64], [0.5, 0.25, 1.0], [2, 4, 8]),
                   ([1, 2, 1], [16, 16, 32], [1.0, 1.0, 0.5], [1, 2, 4]),
                   ([2, 1, 1], [32, 32, 64], [0.25, 0.5, 0.5], [1, 1, 2]),
                   ([1, 1, 1], [16, 32, 64], [1.0, 0.5, 0.25], [4, 4, 4]))],
    "ResNeXt-B": [anynet("res_bottleneck_block", *a) for a in
                  (([1, 1, 1], [16, 32, 64], [1.0, 1.0, 1.0], [4, 8, 16]),
                   ([2, 1, 1], [16, 32, 32], [0.5, 0.5, 0.5], [2, 2, 2]),
                   ([1, 1, 2], [32, 16, 48], [0.25, 1.0, 0.5], [1, 8, 4]),
                   ([1, 2, 1], [8, 16, 32], [1.0, 0.5, 1.0], [2, 4, 8]))],
    "Vanilla": [anynet("double_plain_block", ds, ws) for ds, ws in
                (([1, 1, 1], [8, 16, 32]), ([2, 1, 1], [16, 16, 16]), ([1, 1, 2], [8, 32, 32]),
                 ([1, 2, 1], [24, 24, 48]))],
}
#: Hand-counted parameters of record 0 (arithmetic in tests/spaces/test_nds_models.py) instead of a synthetic count.
HAND_PARAMS = {"ResNet": 20906, "Vanilla": 20026}


def dump(obj, path):
    """One record per line: a list, or the ``{"top": [...], "mid": [...]}`` layout of _reruns files."""
    def lines(records):
        return "[\n" + ",\n".join(json.dumps(r) for r in records) + "\n]"

    if isinstance(obj, list):
        text = lines(obj)
    else:
        text = "{\n" + ",\n".join(json.dumps(k) + ": " + lines(v) for k, v in obj.items()) + "\n}"
    path.write_text(text + "\n")


def curves(rng, final_err):
    test = [round(final_err + (EPOCHS - 1 - e) * rng.uniform(2, 6), 2) for e in range(EPOCHS)]
    test[-1] = final_err
    train = [round(max(0.5, t - rng.uniform(1, 4)), 2) for t in test]
    loss = [round(0.05 * t, 4) for t in train]
    return test, train, loss


def job(rng, net, job_id, final_err, params, flops):
    test, train, loss = curves(rng, final_err)
    return {
        "job_id": job_id, "rng_seed": 1, "exp_mem": round(rng.uniform(300, 900), 1),
        "params": params, "flops": flops, "net": net,
        "optim": {"base_lr": 0.1, "lr_policy": "cos", "max_ep": EPOCHS, "momentum": 0.9, "nesterov": True,
                  "warmup_ep": 0, "warmup_factor": 0.1, "wd": 5e-4},
        "act_mem": round(rng.uniform(100, 400), 1), "prec_time": round(rng.uniform(0.05, 0.2), 4),
        "iter_time": round(rng.uniform(0.05, 0.2), 4), "min_test_top1": min(test),
        "train_ep_loss": loss, "train_ep_top1": train, "test_ep_top1": test,
        "train_it_loss": [loss[0], loss[-1]], "train_it_top1": [train[0], train[-1]],
    }


def random_cell(rng, ops, nodes, darts, forced=()):
    """Random [op, input] pairs (``forced`` ops first); concat = DARTS's all nodes, else the unused ones."""
    forced = list(forced)
    edges = []
    for i in range(nodes):
        for _ in range(2):
            op = forced.pop(0) if forced else rng.choice(ops)
            edges.append([op, rng.randrange(i + 2)])
    if darts:
        return edges, list(range(2, 2 + nodes))
    used = {src for _, src in edges}
    return edges, [k for k in range(2, 2 + nodes) if k not in used] or [1 + nodes]


def main():
    rng = random.Random(2019)
    for si, space in enumerate(CELL_SPACES):
        ops, nodes = list(SPACE_OPS[space]), SPACE_NODES[space]
        records = []
        for k in range(4):  # records 0 and 1 use every op of the space
            forced = ops if k == 0 else (ops[len(ops) // 2:] + ops[: len(ops) // 2] if k == 1 else ())
            normal, normal_concat = random_cell(rng, ops, nodes, space == "DARTS", forced)
            reduce, reduce_concat = random_cell(rng, ops, nodes, space == "DARTS", forced[::-1] if forced else ())
            genotype = {"normal": normal, "normal_concat": normal_concat, "reduce": reduce,
                        "reduce_concat": reduce_concat}
            if k == 3 and space == "DARTS":
                genotype = DARTS_V2
            net = {"aux": False, "depth": [3, 4, 5, 3][k], "drop_prob": 0.0, "genotype": genotype,
                   "width": [8, 8, 10, 12][k]}
            records.append(job(rng, net, 1000 * (si + 1) + k, round(rng.uniform(8, 20), 2),
                               rng.randrange(20000, 90000), rng.randrange(2_000_000, 9_000_000)))
        dump(records, OUT / f"{space}.json")
    for si, (space, nets) in enumerate(ANYNET_NETS.items()):
        records = [job(rng, net, 5000 + 100 * si + k, round(rng.uniform(6, 25), 2), rng.randrange(5000, 200000),
                       rng.randrange(500_000, 20_000_000)) for k, net in enumerate(nets)]
        if space in HAND_PARAMS:
            records[0]["params"] = HAND_PARAMS[space]
        dump(records, OUT / f"{space}.json")
        if space == "Vanilla":  # re-runs of records 0 (two seeds, "top") and 2 ("mid")
            r0, r2 = records[0], records[2]
            reruns = {"top": [job(rng, nets[0], 9001, 7.5, r0["params"], r0["flops"]),
                              job(rng, nets[0], 9002, 7.9, r0["params"], r0["flops"])],
                      "mid": [job(rng, nets[2], 9003, 12.25, r2["params"], r2["flops"])]}
            reruns["top"][1]["rng_seed"] = 2
            dump(reruns, OUT / "Vanilla_reruns.json")


if __name__ == "__main__":
    main()
