"""greedlab's instruments on a model and training loop of your own, on the hierarchy world.

A plain ``nn.Sequential`` MLP trained with ``torch.optim.Adam`` and ``nn.BCEWithLogitsLoss`` on the
world of claim G1 (label χ_{0123}, proxy a_4 agreeing with it on a fraction ρ of the training set),
with ``greedlab.monitor.Monitor`` reading soft and hard reliance on target and proxy and target
decodability at both hidden layers every ``--every`` steps. With ``--store`` the readings are kept
as a run that ``greedlab export`` writes out.

    python examples/monitor_hierarchy.py --steps 1500 --every 50 --store monitor.duckdb
"""

from __future__ import annotations

import argparse
import itertools

import torch
from torch import nn
from torch.utils.data import DataLoader

from greedlab.datasets import WorldDataset
from greedlab.monitor import Monitor
from greedlab.worlds import HierarchyConfig, Proxy


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=1500, help="Adam steps.")
    p.add_argument("--every", type=int, default=50, help="Steps between readings.")
    p.add_argument("--rho", type=float, default=0.9, help="Proxy agreement in training.")
    p.add_argument("--width", type=int, default=256, help="Units per hidden layer.")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate.")
    p.add_argument("--batch-size", type=int, default=128, help="Examples per step.")
    p.add_argument("--seed", type=int, default=0, help="Initialization and data-order seed.")
    p.add_argument("--store", default=None, help="Results store to keep the run in (default: none).")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> Monitor:
    args = parse(argv)
    torch.manual_seed(args.seed)
    world = HierarchyConfig(proxies=(Proxy((4,), args.rho),))
    train = WorldDataset(world, "train")
    loader = DataLoader(train, batch_size=args.batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(args.seed), drop_last=True)
    batches = itertools.chain.from_iterable(itertools.repeat(loader))  # epochs, reshuffled each time
    model = nn.Sequential(nn.Linear(train.x.shape[1], args.width), nn.ReLU(),
                          nn.Linear(args.width, args.width), nn.ReLU(), nn.Linear(args.width, 1))
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.BCEWithLogitsLoss()
    hyper = {k: v for k, v in vars(args).items() if k not in ("store", "every")}
    # layers "1" and "3" are the ReLUs: the post-activations, as greedlab's own MLPs are probed
    with Monitor(world, model, layers=["1", "3"], every=args.every, store=args.store, name="monitor_hierarchy",
                 config=hyper) as monitor:
        for step in range(args.steps + 1):
            monitor.step(step, force=step == args.steps)  # always read the final model
            if step == args.steps:
                break
            x, y = next(batches)
            loss = loss_fn(model(x).squeeze(1), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
    print(monitor.table())
    if args.store:
        print(f"stored as run {monitor.run_id} in {args.store}")
    return monitor


if __name__ == "__main__":
    main()
