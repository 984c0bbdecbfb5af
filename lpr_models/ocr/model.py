"""MaskOCR: a ViT encoder over patches of the plate, pre-trained as a masked autoencoder, and a
transformer decoder whose learned character-slot queries read every character in parallel.

The patches are vertical strips, full height by default. A strip across both rows of a two-row
plate would mix them into one token, so a two-row plate is read in its two-row view instead
(lpr_models.ocr.preprocess: the upper band beside the lower band), which full-height strips read
as one line. `rows = 2` cuts half-height strips instead (16 x 2 strips of 12 px cost 1.06x the
time); trained from scratch on the CPU it did not converge, see docs/training.md. One more
decoder query reads which plate family (region) the plate belongs to.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from lpr_models.vocab import REGIONS, vocab_size


@dataclass(frozen=True)
class OcrConfig:
    """Architecture of the reader; stored beside the weights so a checkpoint rebuilds its model."""

    height: int = 48
    width: int = 192
    strip_width: int = 8
    rows: int = 1  # strips are height / rows tall
    embed_dim: int = 128
    encoder_layers: int = 4
    heads: int = 4
    decoder_layers: int = 2
    max_chars: int = 10
    mae_decoder_dim: int = 64
    mae_decoder_layers: int = 1
    margin_x: float = 0.05  # the crop reaches this share of the plate's width beyond its left and right corners
    margin_y: float = 0.12  # and this share of its height above and below: detector corners are never exact
    upper_band: float = 0.55  # the two-row view's upper band ends this share of the crop's height down
    lower_band: float = 0.45  # and its lower band starts here: the bands overlap, as detector corners err

    regions: int = len(REGIONS)

    @property
    def patch_height(self) -> int:
        return self.height // self.rows

    @property
    def num_strips(self) -> int:
        """Number of patches (tokens): strips across, times rows."""
        return self.rows * (self.width // self.strip_width)

    def to_dict(self) -> dict:
        return asdict(self)


# The reference design's size (embed 624, 8 encoder layers, 12 heads, 6 decoder layers): the
# benchmarks time it, with random weights, as the baseline our readers are compared against.
REFERENCE_CONFIG = OcrConfig(embed_dim=624, encoder_layers=8, heads=12, decoder_layers=6)


def _encoder_layer(dim: int, heads: int) -> nn.TransformerEncoderLayer:
    return nn.TransformerEncoderLayer(
        dim, heads, dim_feedforward=dim * 4, dropout=0.0, activation="gelu", batch_first=True, norm_first=True
    )


class StripEncoder(nn.Module):
    """ViT encoder whose tokens are vertical strips, `rows` of them stacked, read row by row."""

    def __init__(self, cfg: OcrConfig) -> None:
        super().__init__()
        if cfg.width % cfg.strip_width or cfg.height % cfg.rows:
            raise ValueError("plate width must be a multiple of the strip width, and its height of the rows")
        patch = (cfg.patch_height, cfg.strip_width)
        self.embed = nn.Conv2d(3, cfg.embed_dim, kernel_size=patch, stride=patch)
        self.pos = nn.Parameter(torch.zeros(1, cfg.num_strips, cfg.embed_dim))
        nn.init.trunc_normal_(self.pos, std=0.02)
        self.blocks = nn.TransformerEncoder(
            _encoder_layer(cfg.embed_dim, cfg.heads), cfg.encoder_layers, enable_nested_tensor=False
        )
        self.norm = nn.LayerNorm(cfg.embed_dim)

    def tokens(self, images: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) -> (B, patches, dim) tokens, row by row, with position embeddings."""
        return self.embed(images).flatten(2).transpose(1, 2) + self.pos

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.norm(self.blocks(tokens))


class MaskOCR(nn.Module):
    """The reader: encoder + parallel character decoder (+ MAE decoder used only in pre-training)."""

    def __init__(self, cfg: OcrConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg = cfg or OcrConfig()
        self.encoder = StripEncoder(cfg)
        self.queries = nn.Parameter(torch.zeros(1, cfg.max_chars + 1, cfg.embed_dim))  # + the region query
        nn.init.trunc_normal_(self.queries, std=0.02)
        layer = nn.TransformerDecoderLayer(
            cfg.embed_dim,
            cfg.heads,
            dim_feedforward=cfg.embed_dim * 4,
            dropout=0.0,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        self.decoder = nn.TransformerDecoder(layer, cfg.decoder_layers)
        self.decoder_norm = nn.LayerNorm(cfg.embed_dim)
        self.head = nn.Linear(cfg.embed_dim, vocab_size())
        self.region_head = nn.Linear(cfg.embed_dim, cfg.regions)
        self.mae = MaeDecoder(cfg)

    def reader_params(self) -> int:
        """Parameters used for reading: all but the MAE decoder, which only pre-training needs."""
        return sum(p.numel() for p in self.parameters()) - sum(p.numel() for p in self.mae.parameters())

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 3, H, W) normalised plates -> ((B, max_chars, vocab) character logits, (B, regions) region logits)."""
        memory = self.encoder(self.encoder.tokens(images))
        queries = self.queries.expand(images.shape[0], -1, -1)
        decoded = self.decoder_norm(self.decoder(queries, memory))
        return self.head(decoded[:, :-1]), self.region_head(decoded[:, -1])

    def mae_loss(self, images: torch.Tensor, mask_ratio: float = 0.7) -> torch.Tensor:
        """Masked-autoencoder loss: hide `mask_ratio` of the patches, reconstruct their pixels."""
        tokens = self.encoder.tokens(images)
        batch, strips, dim = tokens.shape
        keep = max(1, round(strips * (1 - mask_ratio)))
        order = torch.rand(batch, strips, device=images.device).argsort(dim=1)
        visible_idx = order[:, :keep]
        visible = torch.gather(tokens, 1, visible_idx[..., None].expand(-1, -1, dim))
        latent = self.encoder(visible)
        prediction = self.mae(latent, visible_idx, strips)
        target = patches_of(images, self.cfg)
        target = (target - target.mean(-1, keepdim=True)) / (target.var(-1, keepdim=True) + 1e-6).sqrt()
        masked = torch.ones(batch, strips, device=images.device)
        masked.scatter_(1, visible_idx, 0.0)
        per_strip = ((prediction - target) ** 2).mean(-1)
        return (per_strip * masked).sum() / masked.sum()


class MaeDecoder(nn.Module):
    """Light decoder that fills masked strips with a mask token and predicts their pixels."""

    def __init__(self, cfg: OcrConfig) -> None:
        super().__init__()
        dim = cfg.mae_decoder_dim
        self.project = nn.Linear(cfg.embed_dim, dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.zeros(1, cfg.num_strips, dim))
        nn.init.trunc_normal_(self.pos, std=0.02)
        self.blocks = nn.TransformerEncoder(
            _encoder_layer(dim, max(1, dim // 32)), cfg.mae_decoder_layers, enable_nested_tensor=False
        )
        self.out = nn.Linear(dim, 3 * cfg.patch_height * cfg.strip_width)

    def forward(self, latent: torch.Tensor, visible_idx: torch.Tensor, strips: int) -> torch.Tensor:
        batch = latent.shape[0]
        x = self.mask_token.expand(batch, strips, -1).clone()
        x.scatter_(1, visible_idx[..., None].expand(-1, -1, x.shape[-1]), self.project(latent))
        return self.out(self.blocks(x + self.pos))


def patches_of(images: torch.Tensor, cfg: OcrConfig) -> torch.Tensor:
    """(B, C, H, W) -> (B, patches, C * patch height * strip width) pixels, in the encoder's token order."""
    b, c, h, w = images.shape
    ph, pw = cfg.patch_height, cfg.strip_width
    return (
        images.reshape(b, c, h // ph, ph, w // pw, pw).permute(0, 2, 4, 1, 3, 5).reshape(b, (h // ph) * (w // pw), -1)
    )
