"""Does H4's exit depth measure the compute a solution needs, or the halting dynamics?

Trains H4's penalized early-exit models (quick scale: 16 seeds, 1,500 steps) on the proxy objective
a_4 and on the target χ_01, and reads every exit alone (``instruments.exits.exit_table``): the
head's standalone loss and accuracy, and the share of examples that exit there. Then trains a one-
layer model on a_4 alone: the loss a first exit could reach. If that loss plus one layer's penalty
is below what the penalized model pays at its chosen depth, the model is not at the trade-off the
penalty asks for, and its exit depth says more about training dynamics than about the solution.

    python examples/h4_halting_check.py      # about 3 minutes on 2 CPU cores
"""

from dataclasses import replace
from pathlib import Path

import torch

from greedlab.claims import h4_speed_bias as h4
from greedlab.claims.common import get_scale
from greedlab.claims.context import Context
from greedlab.instruments.exits import exit_table
from greedlab.train import logistic_loss, train
from greedlab.worlds import make_world


def main() -> None:
    specs = h4.conditions(Context(get_scale("quick"), Path("."), None))
    for key in (h4.PROXY, h4.TARGET):
        spec, name = specs[key], key.label()
        world = make_world(spec.world)
        params = train(world, spec.model, spec.train, list(spec.init_seeds), list(spec.data_seeds))
        b = world.sample("deploy", 0, 4096)
        t = {k: v.mean(0).tolist() for k, v in exit_table(spec.model, params, b.x, b.y).items()}
        depth = sum((i + 1) * s for i, s in enumerate(t["share"]))
        print(f"{name} (speed penalty {spec.train.speed_penalty:.3f} per layer): mean exit depth {depth:.2f}")
        for i in range(spec.model.depth):
            print(f"  exit {i + 1}: share {t['share'][i]:.3f}   head alone: loss {t['loss'][i]:.4f}, "
                  f"accuracy {t['accuracy'][i]:.3f}")
    spec = specs[h4.PROXY]
    one = replace(spec.model, depth=1)
    world = make_world(spec.world)
    params = train(world, one, replace(spec.train, speed_penalty=0.0), list(spec.init_seeds), list(spec.data_seeds))
    b = world.sample("deploy", 0, 4096)
    with torch.no_grad():
        logits, _ = one.forward(params, b.x)
    print(f"one-layer model trained on a_4 alone: loss {logistic_loss(logits, b.y).mean().item():.4f}, accuracy "
          f"{((torch.sign(logits) == b.y).float().mean().item()):.4f}")


if __name__ == "__main__":
    main()
