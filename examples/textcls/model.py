"""The keras.io "Text classification with Transformer" model: a TokenAndPositionEmbedding layer (two
Embeddings, positions from tf.range) and a subclassed TransformerBlock (MultiHeadAttention, a Sequential
FFN of two Dense, two LayerNormalization, Dropout). Registered so that textcls.keras loads."""

from __future__ import annotations

from typing import Any

import tensorflow as tf

L = tf.keras.layers


@tf.keras.utils.register_keras_serializable(package="textcls")
class TokenAndPositionEmbedding(L.Layer):
    def __init__(self, maxlen: int, vocab_size: int, embed_dim: int, **kw: Any) -> None:
        super().__init__(**kw)
        self.maxlen, self.vocab_size, self.embed_dim = maxlen, vocab_size, embed_dim
        self.token_emb = L.Embedding(input_dim=vocab_size, output_dim=embed_dim)
        self.pos_emb = L.Embedding(input_dim=maxlen, output_dim=embed_dim)

    def call(self, x: Any) -> Any:
        maxlen = tf.shape(x)[-1]
        positions = tf.range(start=0, limit=maxlen, delta=1)
        positions = self.pos_emb(positions)
        x = self.token_emb(x)
        return x + positions

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "maxlen": self.maxlen,
            "vocab_size": self.vocab_size,
            "embed_dim": self.embed_dim,
        }


@tf.keras.utils.register_keras_serializable(package="textcls")
class TransformerBlock(L.Layer):
    def __init__(self, embed_dim: int, num_heads: int, ff_dim: int, rate: float = 0.1, **kw: Any) -> None:
        super().__init__(**kw)
        self.embed_dim, self.num_heads, self.ff_dim, self.rate = embed_dim, num_heads, ff_dim, rate
        self.att = L.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
        self.ffn = tf.keras.Sequential([L.Dense(ff_dim, activation="relu"), L.Dense(embed_dim)])
        self.layernorm1 = L.LayerNormalization(epsilon=1e-6)
        self.layernorm2 = L.LayerNormalization(epsilon=1e-6)
        self.dropout1 = L.Dropout(rate)
        self.dropout2 = L.Dropout(rate)

    def call(self, inputs: Any, training: Any = None) -> Any:
        attn_output = self.att(inputs, inputs)
        attn_output = self.dropout1(attn_output, training=training)
        out1 = self.layernorm1(inputs + attn_output)
        ffn_output = self.ffn(out1)
        ffn_output = self.dropout2(ffn_output, training=training)
        return self.layernorm2(out1 + ffn_output)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "embed_dim": self.embed_dim,
            "num_heads": self.num_heads,
            "ff_dim": self.ff_dim,
            "rate": self.rate,
        }


def text_classifier(
    maxlen: int, vocab_size: int, embed_dim: int = 16, num_heads: int = 2, ff_dim: int = 32
) -> Any:
    inputs = L.Input(shape=(maxlen,), name="tokens")
    x = TokenAndPositionEmbedding(maxlen, vocab_size, embed_dim)(inputs)
    x = TransformerBlock(embed_dim, num_heads, ff_dim)(x)
    x = L.GlobalAveragePooling1D()(x)
    x = L.Dropout(0.1)(x)
    x = L.Dense(16, activation="relu")(x)
    x = L.Dropout(0.1)(x)
    outputs = L.Dense(2, activation="softmax")(x)
    return tf.keras.Model(inputs=inputs, outputs=outputs, name="textcls")
