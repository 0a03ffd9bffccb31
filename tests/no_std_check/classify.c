/* Classifies images with resnet-core's no_std inference, linked from the #![no_std]
 * staticlib of this folder:
 *
 *   classify [--int8] MODEL IMAGES N C H W LOGITS
 *
 * MODEL: a checkpoint or weights file, or with --int8 an int8 model (`resnet-tui export
 * --format postcard --quantize int8`), run with no heap in an arena this program gives;
 * IMAGES: N*C*H*W little-endian float32 pixels in [0, 1]; LOGITS: written as N*10 float32.
 * Prints the peak heap (f32) or the arena's size (int8). A file it cannot use: one line on
 * stderr and exit 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long resnet_logits(const unsigned char *weights, size_t weights_len, const float *images, size_t n,
                   size_t c, size_t h, size_t w, float *out, size_t out_len);
size_t resnet_last_error(char *buf, size_t cap);
size_t resnet_peak_heap(void);
long resnet_int8_arena_len(const unsigned char *model, size_t model_len);
long resnet_int8_logits(const unsigned char *model, size_t model_len, signed char *arena, size_t arena_len,
                        const float *images, size_t n, size_t c, size_t h, size_t w, float *out,
                        size_t out_len);

static int refused(void) {
    char message[512];
    resnet_last_error(message, sizeof message);
    fprintf(stderr, "classify: %s\n", message);
    return 1;
}

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
    int int8 = argc > 1 && strcmp(argv[1], "--int8") == 0;
    argv += int8;
    argc -= int8;
    if (argc != 8) {
        fprintf(stderr, "usage: classify [--int8] MODEL IMAGES N C H W LOGITS\n");
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
    long arena_len = 0;
    signed char *arena = NULL;
    if (int8) {
        arena_len = resnet_int8_arena_len(weights, weights_len);
        if (arena_len < 0) return refused();
        arena = malloc(arena_len > 0 ? (size_t)arena_len : 1);
    }
    for (size_t i = 0; i < n; i += batch) {
        size_t m = n - i < batch ? n - i : batch;
        const float *from = images + i * c * h * w;
        long got = int8 ? resnet_int8_logits(weights, weights_len, arena, (size_t)arena_len, from, m, c, h, w,
                                             logits + i * classes, m * classes)
                        : resnet_logits(weights, weights_len, from, m, c, h, w, logits + i * classes,
                                        m * classes);
        if (got != (long)(m * classes)) return refused();
    }
    FILE *out = fopen(argv[7], "wb");
    if (!out || fwrite(logits, sizeof(float), n * classes, out) != n * classes) {
        fprintf(stderr, "classify: cannot write %s\n", argv[7]);
        return 1;
    }
    fclose(out);
    if (int8)
        printf("classified %zu images; int8 arena %ld bytes, peak heap %zu bytes\n", n, arena_len,
               resnet_peak_heap());
    else
        printf("classified %zu images; peak heap %zu bytes\n", n, resnet_peak_heap());
    return 0;
}
