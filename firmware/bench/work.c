/* CPU-bound benchmark workload: CRC-32, sort, sieve.
 *
 * Plain integer C compiled freestanding (see Makefile). Everything lives in
 * .bss, which the emulator's data window does NOT zero (it is pre-filled with
 * a pattern), so every buffer is written before it is read; start.S zeroes
 * .bss anyway.
 *
 * One iteration ~ 0.5 M guest instructions: a CRC table built bit by bit,
 * CRC-32 over 8 KiB of LCG bytes, a quicksort (insertion sort for short runs)
 * of 2048 LCG u32 plus a sortedness check, a sieve of Eratosthenes up to
 * 8192, all folded into an FNV-1a-style 64-bit checksum. */
#include "work.h"

#define CRC_LEN 8192u
#define SORT_N 2048u
#define SIEVE_N 8192u

static uint32_t crc_table[256];
static uint8_t crc_buf[CRC_LEN];
static uint32_t sort_buf[SORT_N];
static uint8_t sieve_buf[SIEVE_N];

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v;
    h *= 0x100000001b3ull;
    return h ^ (h >> 29);
}

static uint32_t lcg_next(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s;
}

static void crc_init(uint32_t poly)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ poly : c >> 1;
        crc_table[i] = c;
    }
}

static uint32_t crc32(const uint8_t *p, uint32_t n)
{
    uint32_t c = 0xffffffffu;
    for (uint32_t i = 0; i < n; i++)
        c = crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

static void fill_bytes(uint8_t *p, uint32_t n, uint32_t seed)
{
    for (uint32_t i = 0; i < n; i += 4) {
        uint32_t v = lcg_next(&seed);
        p[i] = (uint8_t)(v >> 24);
        p[i + 1] = (uint8_t)(v >> 16);
        p[i + 2] = (uint8_t)(v >> 8);
        p[i + 3] = (uint8_t)v;
    }
}

static void insertion_sort(uint32_t *a, int64_t lo, int64_t hi)
{
    for (int64_t i = lo + 1; i <= hi; i++) {
        uint32_t v = a[i];
        int64_t j = i - 1;
        while (j >= lo && a[j] > v) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = v;
    }
}

static void quick_sort(uint32_t *a, int64_t lo, int64_t hi)
{
    while (hi - lo > 16) {
        int64_t mid = lo + ((hi - lo) >> 1);
        /* median of three into a[mid] */
        if (a[mid] < a[lo]) { uint32_t t = a[mid]; a[mid] = a[lo]; a[lo] = t; }
        if (a[hi] < a[lo]) { uint32_t t = a[hi]; a[hi] = a[lo]; a[lo] = t; }
        if (a[hi] < a[mid]) { uint32_t t = a[hi]; a[hi] = a[mid]; a[mid] = t; }
        uint32_t pivot = a[mid];
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot) i++;
            while (a[j] > pivot) j--;
            if (i <= j) {
                uint32_t t = a[i]; a[i] = a[j]; a[j] = t;
                i++;
                j--;
            }
        }
        /* recurse into the smaller half, loop on the larger: depth <= log2 n */
        if (j - lo < hi - i) {
            quick_sort(a, lo, j);
            lo = i;
        } else {
            quick_sort(a, i, hi);
            hi = j;
        }
    }
    insertion_sort(a, lo, hi);
}

static uint64_t sort_round(uint32_t seed)
{
    for (uint32_t i = 0; i < SORT_N; i++)
        sort_buf[i] = lcg_next(&seed) ^ (seed >> 13);
    quick_sort(sort_buf, 0, (int64_t)SORT_N - 1);
    uint64_t h = 0, unsorted = 0;
    for (uint32_t i = 0; i < SORT_N; i++) {
        if (i && sort_buf[i - 1] > sort_buf[i])
            unsorted++;
        h = h * 31 + sort_buf[i];
    }
    return h + (unsorted << 56);
}

static uint64_t sieve_round(uint32_t limit)
{
    uint8_t *s = sieve_buf;
    for (uint32_t i = 0; i < limit; i++)
        s[i] = 1;
    s[0] = s[1] = 0;
    for (uint32_t i = 2; i * i < limit; i++)
        if (s[i])
            for (uint32_t j = i * i; j < limit; j += i)
                s[j] = 0;
    uint64_t count = 0, sum = 0;
    for (uint32_t i = 0; i < limit; i++)
        if (s[i]) {
            count++;
            sum += i;
        }
    return (count << 32) ^ sum;
}

uint64_t bench_run(uint64_t iters)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint64_t it = 0; it < iters; it++) {
        uint32_t seed = (uint32_t)(it * 2654435761u) ^ 0x5eed1234u;
        /* alternate CRC-32 (reflected) and CRC-32C polynomials */
        crc_init((it & 1) ? 0x82f63b78u : 0xedb88320u);
        fill_bytes(crc_buf, CRC_LEN, seed);
        h = mix(h, crc32(crc_buf, CRC_LEN));
        h = mix(h, sort_round(seed ^ 0xa5a5a5a5u));
        h = mix(h, sieve_round(SIEVE_N - (uint32_t)(it & 255)));
    }
    return h;
}
