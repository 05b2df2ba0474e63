"""Hand-built diagrams of the course (no parser or lowering needed) and a small DOT reader."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from itertools import pairwise

import networkx as nx
import pytest

from catdsl.diagram.ir import INPUT, OUTPUT, Diagram, ParamBox, PortBox, WireEnd
from catdsl.errors import Span
from catdsl.std.optim import FAMILIES
from catdsl.typesys.dims import Dim, labelled
from catdsl.typesys.types import Atom, Carrier, Obj, Prod, Record, Shape, prod

# Layout tests read Graphviz's own output; CI installs it, a bare machine may not have it.
needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None,
    reason="the Graphviz `dot` binary is not installed (apt-get install graphviz)",
)

V = labelled(Dim.const(5), "V")
D = labelled(Dim.const(4), "D")
TokenId = Obj("TokenId", Carrier("Index", bound=V))
Vector = Obj("Vector", Carrier("Real", Shape((D,))))
Logits = Obj("Logits", Carrier("Real", Shape((V,))))
Distribution = Obj("Distribution", Carrier("Simplex", Shape((V,))))
Loss = Obj("Loss", Carrier("Real"))
TokenSequence = Obj("TokenSequence", Carrier("List", elem=Prod((TokenId,))))
TrainingSet = Obj("TrainingSet", Carrier("List", elem=prod(TokenId, TokenId)))
ListTokenId = Carrier("List", elem=Prod((TokenId,)))
ListVector = Carrier("List", elem=Prod((Vector,)))
PARAM_TYPES = {
    "E": Carrier("Real", Shape((V, D))),
    "W": Carrier("Real", Shape((D, V))),
    "b": Carrier("Real", Shape((V,))),
}
Params = Record("Params", tuple(PARAM_TYPES.items()), "Params(loss)")


def span(line: int, column: int, width: int = 1) -> Span:
    return Span("tiny.cat", line, column, line, column + width)


def link(d: Diagram, src: str, src_port: int, dst: str, dst_port: int) -> None:
    d.connect(WireEnd(src, src_port), WireEnd(dst, dst_port))


def param(d: Diagram, name: str) -> str:
    """A learnable param box (a source entering from above)."""
    return d.add_box("param", name, (), (PARAM_TYPES[name],), data={"name": name, "init": "zeros"})


def kernel(name: str, dom: Atom, cod: Atom, prim: str, params: tuple[str, ...], line: int):
    """`morphism name : dom -> cod = prim(params)`: a diagram holding one prim box."""
    d = Diagram(Prod((dom,)), Prod((cod,)), name)
    sources = [param(d, p) for p in params]
    inputs = (dom, *(PARAM_TYPES[p] for p in params))
    b = d.add_box(
        "prim",
        f"{prim}({', '.join(params)})" if params else prim,
        inputs,
        (cod,),
        span(line, 30),
        {"name": prim, "static": {}, "in_ranks": ()},
        params,
    )
    link(d, INPUT, 0, b, 0)
    for k, s in enumerate(sources):
        link(d, s, 0, b, 1 + k)
    link(d, b, 0, OUTPUT, 0)
    d.ports = ()
    return d


def use(
    d: Diagram,
    sub: Diagram,
    srcs: list[tuple[str, int]],
    ports: dict[str, str],
    line: int,
    column: int = 15,
) -> str:
    """A collapsed `ref` box for `sub`, fed by `srcs` and by the param boxes in `ports`."""
    names = tuple(ports)
    inputs = sub.dom.atoms + tuple(PARAM_TYPES[p] for p in names)
    b = d.add_box(
        "ref",
        sub.name or "f",
        inputs,
        sub.cod.atoms,
        span(line, column, 5),
        {"name": sub.name, "sub": sub, "def_kind": "morphism"},
        names,
    )
    for k, (s, p) in enumerate(srcs):
        link(d, s, p, b, k)
    for k, name in enumerate(names):
        link(d, ports[name], 0, b, len(srcs) + k)
    return b


def embedding() -> Diagram:
    return kernel("Embedding", TokenId, Vector, "lookup", ("E",), 16)


def linear_to_logits() -> Diagram:
    return kernel("LinearToLogits", Vector, Logits, "affine", ("W", "b"), 17)


def softmax() -> Diagram:
    return kernel("Softmax", Logits, Distribution, "softmax", (), 18)


def tiny_pipeline() -> Diagram:
    """`predict = Embedding >> LinearToLogits >> Softmax` with params E, W, b from above."""
    d = Diagram(Prod((TokenId,)), Prod((Distribution,)), "predict")
    e, w, bias = param(d, "E"), param(d, "W"), param(d, "b")
    b1 = use(d, embedding(), [(INPUT, 0)], {"E": e}, 22, 15)
    b2 = use(d, linear_to_logits(), [(b1, 0)], {"W": w, "b": bias}, 22, 28)
    b3 = use(d, softmax(), [(b2, 0)], {}, 22, 46)
    link(d, b3, 0, OUTPUT, 0)
    return d


def cross_entropy() -> Diagram:
    """`Distribution * TokenId -> CrossEntropy -> Loss`: a product into one box."""
    d = Diagram(prod(Distribution, TokenId), Prod((Loss,)), "ce")
    b = d.add_box(
        "opaque",
        "CrossEntropy",
        (Distribution, TokenId),
        (Loss,),
        span(19, 10),
        {"name": "CrossEntropy"},
    )
    link(d, INPUT, 0, b, 0)
    link(d, INPUT, 1, b, 1)
    link(d, b, 0, OUTPUT, 0)
    return d


def loss() -> Diagram:
    """`loss = predict * TokenId >> CrossEntropy`, with `predict` a collapsed definition."""
    d = Diagram(prod(TokenId, TokenId), Prod((Loss,)), "loss")
    e, w, bias = param(d, "E"), param(d, "W"), param(d, "b")
    p = use(d, tiny_pipeline(), [(INPUT, 0)], {"E": e, "W": w, "b": bias}, 23, 25)
    ce = d.add_box(
        "opaque",
        "CrossEntropy",
        (Distribution, TokenId),
        (Loss,),
        span(23, 50),
        {"name": "CrossEntropy"},
    )
    link(d, p, 0, ce, 0)
    link(d, INPUT, 1, ce, 1)
    link(d, ce, 0, OUTPUT, 0)
    return d


def examples() -> Diagram:
    d = Diagram(Prod(()), Prod((TrainingSet,)), "examples")
    c = d.add_box("const", "corpus", (), (TokenSequence,), span(26, 5), {"name": "corpus"})
    w = d.add_box("opaque", "Windowing", (TokenSequence,), (TrainingSet,), span(27, 25))
    link(d, c, 0, w, 0)
    link(d, w, 0, OUTPUT, 0)
    return d


def unnamed(d: Diagram) -> Diagram:
    d.name = None
    return d


def training_loop(n: int = 80) -> Diagram:
    """`trained = step ^ n` with `step = TrainStep(loss, examples, lr = 1.0)`."""
    step = Diagram(Prod((Params,)), Prod((Params,)), "step")
    t = step.add_box(
        "train",
        "TrainStep(loss)",
        (Params,),
        (Params,),
        span(29, 15),
        {
            "family": "TrainStep",
            "spec": FAMILIES["TrainStep"],
            "loss": loss(),
            "data": unnamed(examples()),
            "params": ("E", "W", "b"),
            "hyper": {"lr": 1.0},
        },
    )
    link(step, INPUT, 0, t, 0)
    link(step, t, 0, OUTPUT, 0)
    body = Diagram(Prod((Params,)), Prod((Params,)), f"step ^ {n}")
    r = body.add_box(
        "ref",
        "step",
        (Params,),
        (Params,),
        span(30, 15),
        {"name": "step", "sub": step, "def_kind": "let"},
    )
    link(body, INPUT, 0, r, 0)
    link(body, r, 0, OUTPUT, 0)
    d = Diagram(Prod((Params,)), Prod((Params,)), "trained")
    p = d.add_box("power", f"step ^ {n}", (Params,), (Params,), span(30, 15), {"n": n, "sub": body})
    link(d, INPUT, 0, p, 0)
    link(d, p, 0, OUTPUT, 0)
    return d


def swap() -> Diagram:
    """`swap[Distribution, TokenId]`: two wires crossing."""
    d = Diagram(prod(Distribution, TokenId), prod(TokenId, Distribution), "swapped")
    s = d.add_box(
        "struct",
        "swap",
        (Distribution, TokenId),
        (TokenId, Distribution),
        data={"structure": "swap", "split": 1},
    )
    link(d, INPUT, 0, s, 0)
    link(d, INPUT, 1, s, 1)
    link(d, s, 0, OUTPUT, 0)
    link(d, s, 1, OUTPUT, 1)
    return d


def residual(explicit_copy: bool = True) -> Diagram:
    """`{ a = Attention(x); return Add(x, a) }`: x copied into two boxes."""
    d = Diagram(Prod((Vector,)), Prod((Vector,)), "block")
    att = d.add_box("opaque", "Attention", (Vector,), (Vector,), span(40, 9))
    add = d.add_box("prim", "add", (Vector, Vector), (Vector,), span(40, 30), {"name": "add"})
    if explicit_copy:
        c = d.add_box("struct", "copy", (Vector,), (Vector, Vector), data={"structure": "copy"})
        link(d, INPUT, 0, c, 0)
        link(d, c, 0, add, 0)
        link(d, c, 1, att, 0)
    else:
        link(d, INPUT, 0, add, 0)
        link(d, INPUT, 0, att, 0)
    link(d, att, 0, add, 1)
    link(d, add, 0, OUTPUT, 0)
    return d


def keep_first() -> Diagram:
    """`TokenId * TokenId -> TokenId` dropping the second wire (a discard)."""
    d = Diagram(prod(TokenId, TokenId), Prod((TokenId,)), "fst")
    s = d.add_box("struct", "discard", (TokenId,), (), data={"structure": "discard"})
    link(d, INPUT, 1, s, 0)
    link(d, INPUT, 0, OUTPUT, 0)
    return d


def mapped_embedding() -> Diagram:
    """`List(Embedding)`: a functor bubble around its sub-diagram, E still from above."""
    d = Diagram(Prod((ListTokenId,)), Prod((ListVector,)), "embed_all")
    e = param(d, "E")
    sub = Diagram(Prod((TokenId,)), Prod((Vector,)), "Embedding")
    inner_e = param(sub, "E")
    r = use(sub, embedding(), [(INPUT, 0)], {"E": inner_e}, 33, 20)
    link(sub, r, 0, OUTPUT, 0)
    f = d.add_box(
        "functor",
        "List(Embedding)",
        (ListTokenId, PARAM_TYPES["E"]),
        (ListVector,),
        span(33, 15),
        {"functor": "List", "sub": sub},
        ("E",),
    )
    link(d, INPUT, 0, f, 0)
    link(d, e, 0, f, 1)
    link(d, f, 0, OUTPUT, 0)
    return d


def incomplete() -> Diagram:
    """`Embedding >> ?middle >> Softmax`: a hole between two boxes."""
    d = Diagram(Prod((TokenId,)), Prod((Distribution,)), "draft")
    e = param(d, "E")
    b1 = use(d, embedding(), [(INPUT, 0)], {"E": e}, 35, 12)
    h = d.add_box("hole", "?middle", (Vector,), (Logits,), span(35, 25), {"name": "middle"})
    b3 = use(d, softmax(), [(h, 0)], {}, 35, 37)
    link(d, b1, 0, h, 0)
    link(d, b3, 0, OUTPUT, 0)
    return d


def chain(n: int) -> Diagram:
    """A generated chain of n boxes over one object, for benchmarks."""
    d = Diagram(Prod((Vector,)), Prod((Vector,)), f"chain{n}")
    prev, port = INPUT, 0
    for i in range(n):
        b = d.add_box("prim", f"f{i}", (Vector,), (Vector,), span(i + 1, 1), {"name": f"f{i}"})
        link(d, prev, port, b, 0)
        prev = b
    link(d, prev, port, OUTPUT, 0)
    return d


# ---------------------------------------------------------------------- reading DOT back


@dataclass
class DotGraph:
    """What a DOT text declares: node attributes, edges, clusters and which cluster holds what."""

    attrs: dict[str, str] = field(default_factory=dict)
    nodes: dict[str, dict[str, str]] = field(default_factory=dict)
    edges: list[dict[str, str]] = field(default_factory=list)
    clusters: dict[str, dict[str, str]] = field(default_factory=dict)
    parent: dict[str, str | None] = field(default_factory=dict)  # node or cluster -> cluster
    ranks: list[tuple[str, list[str]]] = field(default_factory=list)

    def edges_from(self, node: str) -> list[dict[str, str]]:
        return [e for e in self.edges if e["tail"] == node]

    def edges_to(self, node: str) -> list[dict[str, str]]:
        return [e for e in self.edges if e["head"] == node]


_TOKEN = re.compile(r'\s*(?:("(?:\\.|[^"\\])*")|(->)|([{}\[\];,=:<])|([A-Za-z0-9_.#\-]+))')


def _tokens(text: str) -> list[str]:
    out, i = [], 0
    while i < len(text):
        m = _TOKEN.match(text, i)
        if m is None:
            if text[i:].strip():
                raise ValueError(f"cannot read DOT at {text[i : i + 40]!r}")
            break
        i = m.end()
        if m.group(1):
            out.append(m.group(1))
        elif m.group(3) == "<":
            depth, j = 1, i
            while depth:
                depth += {"<": 1, ">": -1}.get(text[j], 0)
                j += 1
            out.append("<" + text[i:j])  # keep a leading "<" to mark HTML
            i = j
        else:
            out.append(m.group(2) or m.group(3) or m.group(4))
    return out


def _value(token: str) -> str:
    if token.startswith('"'):
        return re.sub(r"\\(.)", r"\1", token[1:-1])
    if token.startswith("<"):
        return token[1:-1]
    return token


class _Reader:
    def __init__(self, text: str):
        self.toks = _tokens(text)
        self.i = 0
        self.g = DotGraph()

    def next(self) -> str:
        self.i += 1
        return self.toks[self.i - 1]

    def peek(self) -> str:
        return self.toks[self.i] if self.i < len(self.toks) else ""

    def attrs(self) -> dict[str, str]:
        out: dict[str, str] = {}
        while self.peek() == "[":
            self.next()
            while self.peek() != "]":
                key = self.next()
                assert self.next() == "="
                out[key] = _value(self.next())
                if self.peek() in (",", ";"):
                    self.next()
            self.next()
        return out

    def endpoint(self) -> tuple[str, str | None]:
        node, port = _value(self.next()), None
        if self.peek() == ":":
            self.next()
            port = _value(self.next())
            if self.peek() == ":":
                self.next()
                self.next()
        return node, port

    def body(self, cluster: str | None, rank: str | None) -> None:
        members: list[str] = []
        while self.peek() != "}":
            tok = self.peek()
            if tok in ("graph", "node", "edge"):
                self.next()
                attrs = self.attrs()
                if tok == "graph":
                    (self.g.clusters[cluster] if cluster else self.g.attrs).update(attrs)
            elif tok == "subgraph" or tok == "{":
                name = None
                if tok == "subgraph":
                    self.next()
                    name = _value(self.next())
                self.next()
                sub = name if name and name.startswith("cluster") else None
                if sub:
                    self.g.clusters[sub] = {}
                    self.g.parent[sub] = cluster
                self.body(sub or cluster, None)
            elif tok == ";":
                self.next()
            elif self.toks[self.i + 1] == "=":
                key, _, value = self.next(), self.next(), _value(self.next())
                if key == "rank":
                    rank = value
            else:
                tail, tport = self.endpoint()
                chain = [(tail, tport)]
                while self.peek() == "->":
                    self.next()
                    chain.append(self.endpoint())
                attrs = self.attrs()
                if len(chain) == 1:
                    self.g.nodes.setdefault(tail, {}).update(attrs)
                    self.g.parent.setdefault(tail, cluster)
                    members.append(tail)
                for (a, ap), (b, bp) in pairwise(chain):
                    self.g.edges.append(
                        {"tail": a, "tailport": ap or "", "head": b, "headport": bp or "", **attrs}
                    )
        self.next()
        if rank:
            self.g.ranks.append((rank, members))


def read_dot(text: str) -> DotGraph:
    """Parse the subset of DOT that the renderer writes."""
    r = _Reader(text)
    assert r.next() == "digraph"
    r.next()
    assert r.next() == "{"
    r.body(None, None)
    return r.g


# ---------------------------------------------------------------------- structural checks


def validate(d: Diagram) -> None:
    """Check the rules every diagram keeps: acyclic, every input port fed exactly once."""
    if not nx.is_directed_acyclic_graph(d.graph):
        raise ValueError("diagram has a cycle")
    for box in d.boxes():
        d.incoming(box.id)
        counts = [0] * len(box.inputs)
        for _src, dst, attrs in d.graph.in_edges(box.id, data=True):
            if attrs["dst_port"] >= len(box.inputs):
                raise ValueError(f"wire into missing port {attrs['dst_port']} of {dst}")
            counts[attrs["dst_port"]] += 1
        if any(c != 1 for c in counts):
            raise ValueError(f"box {box.id} ({box.label}) has an input fed {counts} times")


def port_box(d: Diagram, name: str) -> str | None:
    """The source box of the named port or param, if the diagram has one."""
    for box in d.boxes():
        if isinstance(box, ParamBox | PortBox) and box.name == name:
            return box.id
    return None
