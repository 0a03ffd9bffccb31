/* Classifies images with resnet-core's no_std inference, linked from the #![no_std]
 * staticlib of this folder:
 *
 *   classify WEIGHTS IMAGES N C H W LOGITS
 *
 * WEIGHTS: a checkpoint or weights file; IMAGES: N*C*H*W little-endian float32 pixels in
 * [0, 1]; LOGITS: written as N*10 float32. Prints the peak heap of the arena. */
#include <stdio.h>
#include <stdlib.h>

long resnet_logits(const unsigned char *weights, size_t weights_len, const float *images, size_t n,
                   size_t c, size_t h, size_t w, float *out, size_t out_len);
size_t resnet_last_error(char *buf, size_t cap);
size_t resnet_peak_heap(void);

static unsigned char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *data = malloc(size > 0 ? (size_t)size : 1);
    *len = data ? fread(data, 1, (size_t)size, f) : 0;
    fclose(f);
    return data;
}

int main(int argc, char **argv) {
    if (argc != 8) {
        fprintf(stderr, "usage: classify WEIGHTS IMAGES N C H W LOGITS\n");
        return 2;
    }
    size_t weights_len = 0, images_len = 0;
    unsigned char *weights = read_all(argv[1], &weights_len);
    float *images = (float *)read_all(argv[2], &images_len);
    size_t n = strtoul(argv[3], 0, 10), c = strtoul(argv[4], 0, 10);
    size_t h = strtoul(argv[5], 0, 10), w = strtoul(argv[6], 0, 10);
    if (!weights || !images || images_len != n * c * h * w * sizeof(float)) {
        fprintf(stderr, "classify: cannot read %s or %s (or it is not N*C*H*W floats)\n", argv[1], argv[2]);
        return 2;
    }
    const size_t batch = 50, classes = 10;
    float *logits = malloc(n * classes * sizeof(float));
    for (size_t i = 0; i < n; i += batch) {
        size_t m = n - i < batch ? n - i : batch;
        long got = resnet_logits(weights, weights_len, images + i * c * h * w, m, c, h, w,
                                 logits + i * classes, m * classes);
        if (got != (long)(m * classes)) {
            char message[512];
            resnet_last_error(message, sizeof message);
            fprintf(stderr, "classify: %s\n", message);
            return 1;
        }
    }
    FILE *out = fopen(argv[7], "wb");
    if (!out || fwrite(logits, sizeof(float), n * classes, out) != n * classes) {
        fprintf(stderr, "classify: cannot write %s\n", argv[7]);
        return 1;
    }
    fclose(out);
    printf("classified %zu images; peak heap %zu bytes\n", n, resnet_peak_heap());
    return 0;
}
