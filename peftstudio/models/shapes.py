"""A decoder's shape, block by block: what the planner counts its parameters and memory from.

`ModelSpec` holds the figures of a model's ``config.json``; `Block` is one transformer block as they
make it. Most models repeat one block; hybrids alternate softmax and linear attention (Qwen3.5), and
Gemma 4 varies its blocks: wider heads in its global layers, no key/value projections in the last
layers (they reuse the keys and values of an earlier layer), a twice as wide MLP there (E2B).

Example:
    >>> spec = ModelSpec(alias="m", hub_id="m", title="m", architecture="llama", layers=2, hidden_size=64,
    ...                  intermediate_size=128, heads=4, kv_heads=2, vocab_size=500, max_context=2048)
    >>> spec.head_dim, spec.kv_dim, spec.blocks[0].kind
    (16, 32, 'full')
    >>> spec.parameters == 500 * 64 * 2 + 2 * (64 * 64 * 2 + 2 * 64 * 32 + 3 * 64 * 128 + 2 * 64) + 64
    True
"""

from __future__ import annotations

from functools import cached_property

from attrs import field, frozen

from peftstudio.tuples import as_tuple

ATTENTION = ("q_proj", "k_proj", "v_proj", "o_proj")
MLP = ("gate_proj", "up_proj", "down_proj")


@frozen
class Block:
    """One transformer block: its attention (``"full"``, ``"sliding"`` or ``"linear"``), head width,
    key/value heads, whether it reuses an earlier layer's keys and values, and its MLP width.

    Example:
        >>> Block(kind="sliding", head_dim=256, kv_heads=1, mlp_width=6144).reuses_kv
        False
    """

    kind: str
    head_dim: int
    kv_heads: int
    mlp_width: int
    reuses_kv: bool = False


@frozen
class ModelSpec:
    """What the planner needs to know about a model's shape.

    `attention_modules` and `mlp_modules` are the names of the linear layers LoRA can target.

    Example:
        >>> spec = ModelSpec(alias="m", hub_id="m", title="m", architecture="llama", layers=30,
        ...     hidden_size=576, intermediate_size=1536, heads=9, kv_heads=3, vocab_size=49152, max_context=8192)
        >>> spec.head_dim, spec.kv_dim
        (64, 192)
    """

    alias: str
    hub_id: str
    title: str
    architecture: str
    layers: int
    hidden_size: int
    intermediate_size: int
    heads: int
    kv_heads: int
    vocab_size: int
    max_context: int
    tie_embeddings: bool = False
    head_dim_override: int | None = None
    attention_bias: bool = False
    attention_modules: tuple[str, ...] = field(default=ATTENTION, converter=as_tuple)
    mlp_modules: tuple[str, ...] = field(default=MLP, converter=as_tuple)
    aliases: tuple[str, ...] = field(default=(), converter=as_tuple)
    norms_per_layer: int = 2
    builtin: bool = False
    #: Layers whose attention sees only the last `sliding_window` tokens (Gemma 3, gpt-oss, Mistral v0.1).
    sliding_layers: int = 0
    sliding_window: int | None = None
    #: RMSNorm over each query and key head (Qwen3, Qwen3.5, Gemma 3, Gemma 4).
    qk_norm: bool = False
    #: RMSNorm (without weights) over each value head too (Gemma 4).
    value_norm: bool = False
    #: Qwen3.5's full-attention layers gate their output: q_proj is twice as wide (queries and the gate).
    attention_output_gate: bool = False
    #: o_proj has a bias too (gpt-oss); `attention_bias` alone is q/k/v only (Qwen2).
    output_bias: bool = False
    #: One learned "sink" logit per head and layer (gpt-oss).
    attention_sinks: bool = False
    #: Hybrid models (Qwen3.5): layers with linear attention (Gated DeltaNet) instead of softmax attention.
    linear_layers: int = 0
    linear_key_heads: int = 0
    linear_value_heads: int = 0
    linear_key_head_dim: int = 0
    linear_value_head_dim: int = 0
    linear_conv_kernel: int = 4
    #: Mixture of experts (gpt-oss): every layer stores `experts` MLPs of width `intermediate_size` (with
    #: biases) and a router; each token computes with `experts_per_token` of them.
    experts: int = 0
    experts_per_token: int = 0
    #: Gemma 4: the global (full-attention) layers' head width and key/value heads, where they differ.
    global_head_dim: int | None = None
    global_kv_heads: int | None = None
    #: Gemma 4: the last `kv_shared_layers` layers reuse the keys and values of the last earlier layer of
    #: their kind, so they hold no k/v projections; with `double_wide_mlp` their MLP is twice as wide (E2B).
    kv_shared_layers: int = 0
    double_wide_mlp: bool = False
    #: Gemma 4 E2B/E4B per-layer embeddings: a second token table of `per_layer_input_size` values for each
    #: layer (`per_layer_vocab_size` rows), mixed with a projection of the input embeddings and fed into
    #: every block through a small gate (two linear layers and a norm).
    per_layer_input_size: int = 0
    per_layer_vocab_size: int = 0
    #: The logits pass through tanh (Gemma 2, Gemma 4): one more vocabulary-wide tensor is kept.
    logit_softcap: bool = False
    #: Where each shape was checked (a comment-like note for the catalog's own entries).
    source: str = ""
    #: Gated on the Hugging Face Hub: the user must accept the licence on the model's page and log in.
    gated: bool = False

    @property
    def head_dim(self) -> int:
        return self.head_dim_override or self.hidden_size // self.heads

    @property
    def q_dim(self) -> int:
        """Width of the attention's query (and output) projection (of the usual, non-global layers)."""
        return self.heads * self.head_dim

    @property
    def kv_dim(self) -> int:
        """Width of the key (and value) projection; smaller than `q_dim` with grouped-query attention."""
        return self.kv_heads * self.head_dim

    @property
    def attention_layers(self) -> int:
        """Layers with softmax attention (all but the hybrid models' linear-attention layers)."""
        return self.layers - self.linear_layers

    @property
    def is_moe(self) -> bool:
        return self.experts > 0

    @cached_property
    def blocks(self) -> tuple[Block, ...]:
        """Every block in order. A hybrid's softmax layer closes each group of linear-attention layers;
        sliding-window layers come before the global one of their group; kv-sharing layers come last."""
        n_layers = self.layers
        kinds = ["full"] * n_layers
        if self.linear_layers and self.attention_layers:
            every = n_layers // self.attention_layers
            kinds = ["full" if (n + 1) % every == 0 else "linear" for n in range(n_layers)]
        elif self.sliding_layers:
            every = max(1, round(n_layers / max(n_layers - self.sliding_layers, 1)))
            kinds = ["full" if (n + 1) % every == 0 else "sliding" for n in range(n_layers)]
        first_sharing = n_layers - self.kv_shared_layers
        blocks = []
        for n, kind in enumerate(kinds):
            wide = kind == "full"
            sharing = n >= first_sharing
            blocks.append(Block(
                kind=kind, head_dim=(self.global_head_dim if wide and self.global_head_dim else self.head_dim),
                kv_heads=(self.global_kv_heads if wide and self.global_kv_heads else self.kv_heads),
                mlp_width=self.intermediate_size * (2 if sharing and self.double_wide_mlp else 1),
                reuses_kv=sharing))
        return tuple(blocks)

    def block_linear_shapes(self, block: Block) -> dict[str, tuple[int, int]]:
        """(in, out) of the linear layers LoRA can target in `block`, by module name.

        A linear-attention block has no attention projections; a block that reuses keys and values has
        no k/v projections; a mixture of experts keeps its experts as stacked weights, not linear layers.
        """
        h = self.hidden_size
        shapes: dict[str, tuple[int, int]] = {}
        if block.kind != "linear":
            q, kv = self.heads * block.head_dim, block.kv_heads * block.head_dim
            if self.attention_modules == ("qkv_proj", "o_proj"):  # Phi-3: q, k, v fused in one matrix
                shapes["qkv_proj"] = (h, q + 2 * kv)
            else:
                shapes["q_proj"] = (h, q * (2 if self.attention_output_gate else 1))
                if not block.reuses_kv:
                    shapes.update(k_proj=(h, kv), v_proj=(h, kv))
            shapes["o_proj"] = (q, h)
        if self.is_moe:
            return shapes
        width = block.mlp_width
        if self.mlp_modules == ("gate_up_proj", "down_proj"):  # Phi-3: gate and up fused
            shapes["gate_up_proj"] = (h, 2 * width)
        else:
            shapes.update(gate_proj=(h, width), up_proj=(h, width))
        shapes["down_proj"] = (width, h)
        return shapes

    @cached_property
    def layer_linear_shapes(self) -> dict[str, tuple[int, int]]:
        """The LoRA-targetable linear layers of the first softmax-attention block (see `block_linear_shapes`)."""
        first = next((b for b in self.blocks if b.kind != "linear"), self.blocks[0])
        return self.block_linear_shapes(first)

    def module_layers(self, module: str) -> int:
        """How many blocks hold the linear layer `module`."""
        return sum(1 for b in self.blocks if module in self.block_linear_shapes(b))

    @property
    def linear_attention_widths(self) -> tuple[int, int]:
        """(keys, values) widths of one linear-attention layer: its q and k are `keys` wide each."""
        return (self.linear_key_heads * self.linear_key_head_dim, self.linear_value_heads * self.linear_value_head_dim)

    @cached_property
    def linear_attention_projections(self) -> int:
        """Matrix weights of one Gated DeltaNet layer (Qwen3.5): q/k/v together, z, the a and b gates, out."""
        if not self.linear_layers:
            return 0
        h = self.hidden_size
        keys, values = self.linear_attention_widths
        return h * (2 * keys + values) + h * values + 2 * h * self.linear_value_heads + values * h

    @cached_property
    def linear_attention_parameters(self) -> int:
        """All weights of one Gated DeltaNet layer: the projections, the short convolution, decay terms, norm."""
        if not self.linear_layers:
            return 0
        keys, values = self.linear_attention_widths
        return (self.linear_attention_projections + (2 * keys + values) * self.linear_conv_kernel
                + 2 * self.linear_value_heads + self.linear_value_head_dim)

    @cached_property
    def expert_parameters(self) -> int:
        """Weights of one layer's experts and router (all stored, whichever a token uses)."""
        if not self.is_moe:
            return 0
        h, i, n = self.hidden_size, self.intermediate_size, self.experts
        return n * (h * 2 * i + 2 * i + i * h + h) + (h * n + n)

    @property
    def per_layer_linear_parameters(self) -> int:
        """Matrix weights of one block's per-layer-embedding gate (Gemma 4): into the small width and back."""
        return 2 * self.hidden_size * self.per_layer_input_size

    @cached_property
    def layer_linear_parameters(self) -> int:
        """Weights of the first softmax-attention block's targetable linear layers, with their biases."""
        bias = self.q_dim + 2 * self.kv_dim if self.attention_bias else 0
        bias += self.hidden_size if self.output_bias else 0
        return sum(a * b for a, b in self.layer_linear_shapes.values()) + bias

    @cached_property
    def linear_parameters(self) -> int:
        """Every block's matrix weights together: what 4-/8-bit loading quantizes (experts aside)."""
        total = 0
        for block in self.blocks:
            total += sum(a * b for a, b in self.block_linear_shapes(block).values())
            total += self.linear_attention_projections if block.kind == "linear" else 0
        return total + self.layers * self.per_layer_linear_parameters + self.per_layer_projection_parameters

    @cached_property
    def active_linear_parameters(self) -> int:
        """Matrix weights one token computes with in all blocks (a mixture of experts uses only its active ones)."""
        moe = 0
        if self.is_moe:
            h, i = self.hidden_size, self.intermediate_size
            moe = self.layers * (self.experts_per_token * 3 * h * i + h * self.experts)
        return self.linear_parameters + moe

    @property
    def embedding_parameters(self) -> int:
        """Input embeddings plus the output head when it is not tied to them."""
        return self.vocab_size * self.hidden_size * (1 if self.tie_embeddings else 2)

    @property
    def per_layer_embedding_parameters(self) -> int:
        """Gemma 4's per-layer token table: `per_layer_input_size` values per layer for every token."""
        return self.per_layer_vocab_size * self.layers * self.per_layer_input_size

    @property
    def per_layer_projection_parameters(self) -> int:
        """Gemma 4's linear layer from the input embeddings to every layer's small input (once per model)."""
        return self.hidden_size * self.layers * self.per_layer_input_size

    def block_parameters(self, block: Block) -> int:
        """All weights of `block`: linear layers, biases, norms, sinks, linear attention, experts."""
        h = self.hidden_size
        total = sum(a * b for a, b in self.block_linear_shapes(block).values()) + self.norms_per_layer * h
        if block.kind == "linear":
            total += self.linear_attention_parameters
        else:
            q, kv = self.heads * block.head_dim, block.kv_heads * block.head_dim
            total += (q + (0 if block.reuses_kv else 2 * kv)) if self.attention_bias else 0
            total += h if self.output_bias else 0
            total += block.head_dim * (1 if block.reuses_kv else 2) if self.qk_norm else 0
            total += self.heads if self.attention_sinks else 0
        if self.per_layer_input_size:  # the gate's two linear layers and its norm
            total += self.per_layer_linear_parameters + h
        return total + self.expert_parameters

    @cached_property
    def parameters(self) -> int:
        """Total parameters, computed from the shape (norm weights, biases, routers and all experts included)."""
        blocks = sum(self.block_parameters(b) for b in self.blocks)
        per_layer = 0
        if self.per_layer_input_size:  # the table, its projection and the projection's norm
            per_layer = (self.per_layer_embedding_parameters + self.per_layer_projection_parameters
                         + self.per_layer_input_size)
        return blocks + self.embedding_parameters + self.hidden_size + per_layer

    @property
    def all_modules(self) -> tuple[str, ...]:
        return self.attention_modules + self.mlp_modules

    @property
    def display(self) -> str:
        return self.title


__all__ = ["ATTENTION", "MLP", "Block", "ModelSpec"]
