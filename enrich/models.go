package enrich

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
)

// Versions of the learned models' recipes; the trainer records them in the
// model files and a test checks the embedded files carry them. Bump one
// when its recipe (data, features, training) changes, and retrain.
const (
	SentimentModelVersion = "sentiment-4"
	// SentimentENModelVersion is the English model's, trained by the same
	// command on the same files.
	SentimentENModelVersion = "sentiment-en-2"
	EmotionModelVersion     = "emotion-1"
	IronyModelVersion       = "irony-1"
)

// Training inputs of each model, relative to the shared data folder, in
// the order DataHash reads them.
var (
	SentimentTrainFiles = []string{
		"sentiment/umsab_train.tsv", "sentiment/semeval2017_en_train.tsv", "sentiment/afrisenti_pt_dev.tsv",
		"sentiment/politics_el_es_en_dev.tsv", "sentiment/mozetic_posneg_dev.tsv",
		// read only to remove its texts from training
		"sentiment/tweeteval_en_val.tsv",
	}
	EmotionTrainFiles = []string{"emotion/tweeteval_emotion_en_train.tsv"}
	IronyTrainFiles   = []string{"emotion/tweeteval_irony_en_train.tsv"}
)

// DataHash is the SHA-256 (first 16 hex digits) of files under dir, in
// order, each preceded by its name and size: what a model records as the
// data it was trained on.
func DataHash(dir string, files []string) (string, error) {
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			return "", fmt.Errorf("data hash: %w", err)
		}
		fmt.Fprintf(h, "%s %d\n", f, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}
