// Row-interleaved ("packed") Q4_0 / Q8_0 / Q4_K / Q6_K weights: kPackRows rows side by side, so one sequential stream
// feeds a whole group of rows and one 64-byte vector holds 4 weight bytes of each of 16 rows (one
// vpdpbusd lane per row). Built once at load from the file's rows (Model::pack_weights); the file and its
// mapping stay, and a matrix without a packed copy runs the row kernels with the same bits.
//
// Layout of one group (16 rows r = 0..15), block b = 0..cols/32-1 after block b-1:
//   16 x fp16 scales (row r's d at [r]), then the quants in steps of 4 bytes per row:
//   Q4_0: 4 steps s; step s holds row r's qs[4s..4s+3] at [64 s + 4 r] (the nibbles as stored: low
//         nibbles are elements 4s..4s+3, high nibbles 16+4s..16+4s+3);
//   Q8_0: 8 steps s; step s holds row r's qs[4s..4s+3] + 128 (as unsigned bytes) at [64 s + 4 r].
// Q4_K, per super-block b = 0..cols/256-1 (2304 bytes, the 16 rows' 144 each):
//   16 x fp16 d, 16 x fp16 dmin, then the 12 scale bytes as three words w = 0..2: row r's scales[4w..4w+3]
//   at [64 + 64 w + 4 r] (so the 6-bit scales and mins of 16 rows unpack with word-wise vector operations),
//   then qs in 32 steps s = 8 c + k (c = 0..3 the 32-byte chunks, k = 0..7): row r's qs[32 c + 4 k..+3]
//   at [256 + 64 s + 4 r] (low nibbles: elements 64 c + 4 k.., of sub-block 2 c; high: 64 c + 32 + 4 k..).
// Q6_K, per super-block (3360 bytes, the 16 rows' 210 each): 16 x fp16 d, then the 16 int8 scales as four
//   words w: row r's scales[4w..4w+3] at [32 + 64 w + 4 r], then 16 steps t = 8 h + k of 192 bytes (h = 0..1
//   the halves, k = 0..7) in the order the kernel reads them (one sequential stream: three interleaved
//   ones measured 2.5x slower): row r's ql[64 h + 4 k..+3] at [288 + 192 t + 4 r], ql[64 h + 32 + 4 k..+3]
//   at [+ 64], qh[32 h + 4 k..+3] at [+ 128].
// A group takes exactly the bytes of its 16 rows in the file (18, 34, 144 or 210 bytes per row and block).
//
// The kernels (KernelTable::vec_dot_packed) use unsigned weight bytes against signed activations, so
// each block's integer sum is offset: Q4_0 stores q = w + 8, Q8_0 stores w + 128. The offset times the
// block's 32 activations is taken off again through packed_corrections, per token. Q4_K's nibbles are
// unsigned as stored (its mins are a term of their own), as are Q6_K's 6-bit values (its -32 goes through
// the activations' 16-sums), and need no corrections.
#pragma once

#include <cstddef>
#include <cstdint>

#include "dtype/tensor_type.h"

namespace pocket {

constexpr int kPackRows = 16;

// True for the weight types with a packed layout.
bool packable_type(TensorType t);
// Bytes of one packed group of kPackRows rows of `cols` columns (= kPackRows * the row's bytes).
size_t packed_group_bytes(TensorType t, int64_t cols);
// Packs rows [0, rows) (rows % kPackRows == 0, cols a multiple of t's block, rows row_bytes apart) into dst, which
// holds rows / kPackRows groups.
void pack_rows(TensorType t, const uint8_t* src, size_t row_bytes, int64_t rows, int64_t cols, uint8_t* dst);
// Whether the packed kernels of type t read packed_corrections (Q4_0, Q8_0; not the K-quants).
bool packed_needs_corrections(TensorType t);
// Per activation row (Q8_0 blocks, cols / 32 of them) the start of each block's integer sum for a packed
// weight type: -offset * (x[0] + ... + x[31]) of block b at out[b], cols / 32 int32 in all.
void packed_corrections(TensorType t, const void* act_row, int64_t cols, int32_t* out);

}  // namespace pocket
