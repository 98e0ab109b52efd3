"""Marian-architecture Transformer configurations (size presets)."""

from __future__ import annotations

PRESETS: dict[str, dict] = {
    # d_model, layers (enc/dec), heads, ffn: parameters excluding the embeddings
    "tiny": dict(d_model=128, encoder_layers=3, decoder_layers=3, heads=4, ffn=512),  # ~1.4M
    "small": dict(d_model=256, encoder_layers=4, decoder_layers=4, heads=4, ffn=1024),  # ~7.4M
    "medium": dict(d_model=384, encoder_layers=6, decoder_layers=4, heads=6, ffn=1536),  # ~21M
    "base": dict(d_model=512, encoder_layers=6, decoder_layers=6, heads=8, ffn=2048),  # ~44M (OPUS-MT)
}


def marian_config(preset: str, vocab_size: int, pad_id: int, eos_id: int = 0, *, max_positions: int = 512,
                  dropout: float = 0.1, **overrides):
    from transformers import MarianConfig

    if preset not in PRESETS:
        from s2s_desktop.training import TrainingError

        raise TrainingError(f"Unknown size preset {preset!r}; choose one of {', '.join(PRESETS)}")
    p = dict(PRESETS[preset])
    p.update({k: v for k, v in overrides.items() if v is not None})
    return MarianConfig(
        vocab_size=vocab_size,
        decoder_vocab_size=vocab_size,
        d_model=p["d_model"],
        encoder_layers=p["encoder_layers"],
        decoder_layers=p["decoder_layers"],
        encoder_attention_heads=p["heads"],
        decoder_attention_heads=p["heads"],
        encoder_ffn_dim=p["ffn"],
        decoder_ffn_dim=p["ffn"],
        max_position_embeddings=max_positions,
        pad_token_id=pad_id,
        eos_token_id=eos_id,
        decoder_start_token_id=pad_id,
        forced_eos_token_id=eos_id,
        bad_words_ids=[[pad_id]],
        share_encoder_decoder_embeddings=True,
        tie_word_embeddings=True,
        scale_embedding=True,
        dropout=dropout,
        attention_dropout=0.0,
        activation_dropout=0.0,
        activation_function="swish",
        num_beams=4,
        max_length=max_positions - 1,
    )


def count_parameters(model) -> int:
    seen = set()
    total = 0
    for p in model.parameters():
        if id(p) not in seen:
            seen.add(id(p))
            total += p.numel()
    return total
