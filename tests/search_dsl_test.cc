// Every DSL primitive on a small hand-made grid: one row per primitive with its input, the split
// that builds the list for list primitives, and the exact expected result ("" = does not apply;
// lists as items joined by " | "; "@x,y " marks an offset). The context is a 4x3 input with a
// predicted 6x4 output (for the canvas primitives).
#include <set>
#include <string>
#include <vector>

#include "core/search/dsl.h"
#include "core/search/image.h"
#include "gtest/gtest.h"

namespace arc::search {
namespace {

struct Case {
  const char* name;
  const char* input;
  const char* split;  // image -> list primitive making the list argument ("" = objects8)
  const char* expected;
};

const Case kCases[] = {
    {"crop", "0000/0120/0030/0000", "", "@1,1 12/03"},
    {"keep_1", "0120/0100/3003", "", "0100/0100/0000"},
    {"keep_2", "0120/0100/3003", "", "0020/0000/0000"},
    {"keep_3", "0120/0100/3003", "", "0000/0000/3003"},
    {"keep_4", "0140/4400", "", "0040/4400"},
    {"keep_5", "0150/5500", "", "0050/5500"},
    {"keep_6", "0160/6600", "", "0060/6600"},
    {"keep_7", "0170/7700", "", "0070/7700"},
    {"keep_8", "0180/8800", "", "0080/8800"},
    {"keep_9", "0190/9900", "", "0090/9900"},
    {"erase_1", "0120/0100/3003", "", "0020/0000/3003"},
    {"erase_2", "0120/0100/3003", "", "0100/0100/3003"},
    {"erase_3", "0120/0100/3003", "", "0120/0100/0000"},
    {"erase_4", "0140/4400", "", "0100/0000"},
    {"erase_5", "0150/5500", "", "0100/0000"},
    {"erase_6", "0160/6600", "", "0100/0000"},
    {"erase_7", "0170/7700", "", "0100/0000"},
    {"erase_8", "0180/8800", "", "0100/0000"},
    {"erase_9", "0190/9900", "", "0100/0000"},
    {"background_mask", "0120/0100/3003", "", "1001/1011/0110"},
    {"keep_major", "0120/0100/3003", "", "0100/0100/0000"},
    {"keep_minor", "0120/0100/3003", "", "0020/0000/0000"},
    {"erase_major", "0120/0100/3003", "", "0020/0000/3003"},
    {"major_colour", "0120/0100/3003", "", "1"},
    {"minor_colour", "0120/0100/3003", "", "2"},
    {"swap_colours", "0120/0100", "", "0210/0200"},
    {"fill_background", "0120/0100/3003", "", "1121/1111/3113"},
    {"background_to_0", "555/515/550", "", "000/010/005"},
    {"recolour_1", "0120/0100/3003", "", "0110/0100/1001"},
    {"recolour_2", "0120/0100/3003", "", "0220/0200/2002"},
    {"recolour_3", "0120/0100/3003", "", "0330/0300/3003"},
    {"recolour_4", "0120/0100/3003", "", "0440/0400/4004"},
    {"recolour_5", "0120/0100/3003", "", "0550/0500/5005"},
    {"recolour_6", "0120/0100/3003", "", "0660/0600/6006"},
    {"recolour_7", "0120/0100/3003", "", "0770/0700/7007"},
    {"recolour_8", "0120/0100/3003", "", "0880/0800/8008"},
    {"recolour_9", "0120/0100/3003", "", "0990/0900/9009"},
    {"rot90", "0120/0100/3003", "", "003/200/110/003"},
    {"rot180", "0120/0100/3003", "", "3003/0010/0210"},
    {"rot270", "0120/0100/3003", "", "300/011/002/300"},
    {"flip_ud", "0120/0100/3003", "", "3003/0100/0120"},
    {"flip_lr", "0120/0100/3003", "", "0210/0010/3003"},
    {"transpose", "0120/0100/3003", "", "003/110/200/003"},
    {"anti_transpose", "0120/0100/3003", "", "300/002/011/300"},
    {"to_origin", "@2,1 12/30", "", "12/30"},
    {"drop_empty_lines", "0000/1020/0000/3040", "", "12/34"},
    {"merge_repeats", "1122/1122/0033", "", "12/03"},
    {"left_half", "0120/0100/3003", "", "01/01/30"},
    {"right_half", "0120/0100/3003", "", "@2,0 20/00/03"},
    {"top_half", "0120/0100/3003", "", "0120"},
    {"bottom_half", "0120/0100/3003", "", "@0,2 3003"},
    {"centre", "12345/67890/12345", "", "@2,1 8"},
    {"shift_r", "0120/0100/3003", "", "0012/0010/0300"},
    {"shift_l", "0120/0100/3003", "", "1200/1000/0030"},
    {"shift_d", "0120/0100/3003", "", "0000/0120/0100"},
    {"shift_u", "0120/0100/3003", "", "0100/3003/0000"},
    {"pad", "0120/0100/3003", "", "@-1,-1 000000/001200/001000/030030/000000"},
    {"unpad", "1111/1231/1111", "", "@1,1 23"},
    {"scale_2", "0120/0100/3003", "", "00112200/00112200/00110000/00110000/33000033/33000033"},
    {"downscale_2", "1122/1122/0033/0033", "", "12/03"},
    {"scale_3", "0120/0100/3003", "", "000111222000/000111222000/000111222000/000111000000/000111000000/000111000000/333000000333/333000000333/333000000333"},
    {"downscale_3", "111222/111222/111222", "", "12"},
    {"scale_w2", "0120/0100/3003", "", "00112200/00110000/33000033"},
    {"scale_h2", "0120/0100/3003", "", "0120/0120/0100/0100/3003/3003"},
    {"tile_1x2", "0120/0100/3003", "", "01200120/01000100/30033003"},
    {"tile_2x1", "0120/0100/3003", "", "0120/0100/3003/0120/0100/3003"},
    {"tile_2x2", "0120/0100/3003", "", "01200120/01000100/30033003/01200120/01000100/30033003"},
    {"tile_3x3", "0120/0100/3003", "", "012001200120/010001000100/300330033003/012001200120/010001000100/300330033003/012001200120/010001000100/300330033003"},
    {"mirror_1x2", "0120/0100/3003", "", "01200210/01000010/30033003"},
    {"mirror_2x1", "0120/0100/3003", "", "0120/0100/3003/3003/0100/0120"},
    {"mirror_2x2", "0120/0100/3003", "", "01200210/01000010/30033003/30033003/01000010/01200210"},
    {"symmetrize_lr", "0120/0100/3003", "", "0120/0110/3003"},
    {"symmetrize_ud", "0120/0100/3003", "", "3123/0100/3123"},
    {"symmetrize_all", "0120/0100/3003", "", "3123/0110/3113"},
    {"symmetrize_diag", "120/000/300", "", "123/200/300"},
    {"self_kron", "0120/0100/3003", "", "0000012001200000/0000010001000000/0000300330030000/0000012000000000/0000010000000000/0000300300000000/0120000000000120/0100000000000100/3003000000003003"},
    {"self_kron_inverse", "0120/0100/3003", "", "0120000000000120/0100000000000100/3003000000003003/0120000001200120/0100000001000100/3003000030033003/0000012001200000/0000010001000000/0000300330030000"},
    {"paste_out", "0120/0100/3003", "", "012000/010000/300300/000000"},
    {"tile_out", "0120/0100/3003", "", "012001/010001/300330/012001"},
    {"mirror_out", "0120/0100/3003", "", "012002/010000/300330/300330"},
    {"scale_out", "12/30", "", "111222/111222/333000/333000"},
    {"holes", "111/101/111", "", "000/010/000"},
    {"fill_holes", "1110/1010/1110", "", "1110/1110/1110"},
    {"interior", "1110/1110/1110", "", "0000/0100/0000"},
    {"border", "0120/0100/3003", "", "0120/0100/3003"},
    {"ring", "0120/0100/3003", "", "1001/1011/0110"},
    {"frame", "0120/0100/3003", "", "1111/1001/1111"},
    {"frame_around", "0120/0100/3003", "", "@-1,-1 111111/101201/101001/130031/111111"},
    {"hull", "0120/0100/3003", "", "1111/1111/1111"},
    {"gravity_d", "0120/0100/3003", "", "0000/0100/3123"},
    {"gravity_u", "0120/0100/3003", "", "3123/0100/0000"},
    {"gravity_r", "0120/0100/3003", "", "0012/0001/0033"},
    {"gravity_l", "0120/0100/3003", "", "1200/1000/3300"},
    {"fall_d", "0120/0100/3003", "", "0120/0100/3003"},
    {"fall_u", "0120/0100/3003", "", "0123/0100/3000"},
    {"fall_r", "0120/0100/3003", "", "0012/0010/0303"},
    {"fall_l", "0120/0100/3003", "", "0120/0100/3300"},
    {"smear_r", "0120/0100/3003", "", "0122/0111/3333"},
    {"smear_l", "0120/0100/3003", "", "1120/1100/3333"},
    {"smear_d", "0120/0100/3003", "", "0120/0120/3123"},
    {"smear_u", "0120/0100/3003", "", "3123/3103/3003"},
    {"smear_h", "0120/0100/3003", "", "1122/1111/3333"},
    {"smear_v", "0120/0100/3003", "", "3123/3123/3123"},
    {"smear_hv", "0120/0100/3003", "", "1122/1111/3333"},
    {"smear_dr", "0120/0100/3003", "", "0120/0112/3013"},
    {"smear_dl", "001/000/000", "", "001/010/100"},
    {"smear_ur", "000/000/100", "", "001/010/100"},
    {"smear_ul", "0120/0100/3003", "", "1120/0130/3003"},
    {"smear_diag", "0120/0100/3003", "", "1120/1112/3013"},
    {"smear_all", "0120/0100/3003", "", "1122/1111/3333"},
    {"connect_h", "0120/0100/3003", "", "0120/0100/3333"},
    {"connect_v", "1020/0000/1002", "", "1020/1000/1002"},
    {"connect_hv", "1010/0000/1002", "", "1110/1000/1002"},
    {"count_pixels_row", "0120/0100/3003", "", "11111"},
    {"count_pixels_column", "0120/0100/3003", "", "1/1/1/1/1"},
    {"count_pixels_square", "0120/0100/3003", "", "11111/11111/11111/11111/11111"},
    {"count_colours_row", "0120/0100/3003", "", "111"},
    {"count_colours_column", "0120/0100/3003", "", "1/1/1"},
    {"count_colours_square", "0120/0100/3003", "", "111/111/111"},
    {"count_objects_row", "0120/0100/3003", "", "11"},
    {"count_objects_column", "0120/0100/3003", "", "1/1"},
    {"count_objects_square", "0120/0100/3003", "", "11/11"},
    {"cols_and", "0120/0100/3003", "", "00/00/00"},
    {"cols_or", "0120/0100/3003", "", "11/01/11"},
    {"cols_xor", "0120/0100/3003", "", "11/01/11"},
    {"cols_nor", "0120/0100/3003", "", "00/10/00"},
    {"cols_minus", "0120/0100/3003", "", "01/01/10"},
    {"cols_over", "0120/0100/3003", "", "21/01/33"},
    {"cols_under", "0120/0100/3003", "", "21/01/33"},
    {"rows_and", "110/222/011", "", "010"},
    {"rows_or", "110/222/011", "", "111"},
    {"rows_xor", "110/222/011", "", "101"},
    {"rows_nor", "110/222/011", "", "000"},
    {"rows_minus", "110/222/011", "", "100"},
    {"rows_over", "110/222/033", "", "133"},
    {"rows_under", "110/222/033", "", "113"},
    {"objects4", "0120/0100/3003", "", "@1,0 12/10 | @0,2 3 | @3,2 3"},
    {"objects8", "0120/0100/3003", "", "012/010/300 | @3,2 3"},
    {"colour_objects4", "0120/0100/3003", "", "@1,0 1/1 | @2,0 2 | @0,2 3 | @3,2 3"},
    {"colour_objects8", "0120/0100/3003", "", "@1,0 1/1 | @2,0 2 | @0,2 3 | @3,2 3"},
    {"split_colours", "0120/0100/3003", "", "@1,0 1/1 | @2,0 2 | @0,2 3003"},
    {"split_grid", "10201/22222/30204", "", "10 | @3,0 01 | @0,2 30 | @3,2 04"},
    {"split_rows", "0120/0100/3003", "", "0120 | @0,1 0100 | @0,2 3003"},
    {"split_columns", "0120/0100/3003", "", "0/0/3 | @1,0 1/1/0 | @2,0 2/0/0 | @3,0 0/0/3"},
    {"objects_on_background", "555/515/555", "", "@1,1 1"},
    {"split_halves_h", "0120/0100/3003", "", "01/01/30 | 20/00/03"},
    {"split_halves_v", "110/222/011", "", "110 | 011"},
    {"largest", "0120/0100/3003", "", "012/010/300"},
    {"smallest", "0120/0100/3003", "", "@3,2 3"},
    {"largest_box", "0120/0100/3003", "", "012/010/300"},
    {"smallest_box", "0120/0100/3003", "", "@3,2 3"},
    {"most_colours", "0120/0100/3003", "", "012/010/300"},
    {"fewest_colours", "0120/0100/3003", "", "@3,2 3"},
    {"topmost", "0120/0100/3003", "", "012/010/300"},
    {"bottommost", "10101/00000/20000", "", "@0,2 2"},
    {"leftmost", "0120/0100/3003", "", "012/010/300"},
    {"rightmost", "0120/0100/3003", "", "@3,2 3"},
    {"densest", "0120/0100/3003", "", "@3,2 3"},
    {"unique_shape", "10101/00000/20001", "", "@0,2 2"},
    {"unique_colours", "10101/00000/20001", "", "@0,2 2"},
    {"most_common", "10101/00000/20001", "", "1"},
    {"first", "0120/0100/3003", "", "012/010/300"},
    {"last", "0120/0100/3003", "", "@3,2 3"},
    {"overlay", "0120/0100/3003", "", "0120/0100/3003"},
    {"overlay_growing", "0120/0100/3003", "", "0120/0100/3003"},
    {"concat_h", "0120/0100/3003", "", "0123/0100/3000"},
    {"concat_v", "0120/0100/3003", "", "012/010/300/300"},
    {"and_all", "10201/22222/10211", "split_grid", "00"},
    {"or_all", "10201/22222/10211", "split_grid", "11"},
    {"xor_all", "10201/22222/10211", "split_grid", "10"},
    {"keep_largest", "0120/0100/3003", "", "012/010/300"},
    {"drop_largest", "0120/0100/3003", "", "@3,2 3"},
    {"keep_smallest", "0120/0100/3003", "", "@3,2 3"},
    {"drop_smallest", "0120/0100/3003", "", "012/010/300"},
    {"keep_largest_box", "0120/0100/3003", "", "012/010/300"},
    {"drop_largest_box", "0120/0100/3003", "", "@3,2 3"},
    {"keep_smallest_box", "0120/0100/3003", "", "@3,2 3"},
    {"drop_smallest_box", "0120/0100/3003", "", "012/010/300"},
    {"keep_most_colours", "0120/0100/3003", "", "012/010/300"},
    {"drop_most_colours", "0120/0100/3003", "", "@3,2 3"},
    {"keep_fewest_colours", "0120/0100/3003", "", "@3,2 3"},
    {"drop_fewest_colours", "0120/0100/3003", "", "012/010/300"},
    {"sort_by_size", "0120/0100/3003", "", "012/010/300 | @3,2 3"},
    {"reverse", "0120/0100/3003", "", "@3,2 3 | 012/010/300"},
};

std::string ListText(const std::vector<Image>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? " | " : "") + ImageToString(v[i]);
  return s;
}

std::string RunCase(const Primitive& p, const Case& c) {
  const ExampleContext ctx{/*in_w=*/4, /*in_h=*/3, /*out_w=*/6, /*out_h=*/4};
  const Image input = ParseImage(c.input);
  switch (p.kind) {
    case Kind::kImageToImage: return ImageToString(p.image_to_image(input, ctx));
    case Kind::kImageToList: return ListText(p.image_to_list(input, ctx));
    default: break;
  }
  const std::string split = *c.split ? c.split : "objects8";
  const std::vector<Image> list = Dsl()[FindPrimitive(split)].image_to_list(input, ctx);
  if (p.kind == Kind::kListToImage) return ImageToString(p.list_to_image(list, ctx));
  return ListText(p.list_to_list(list, ctx));
}

TEST(DslTest, EveryPrimitiveGivesItsExpectedResult) {
  for (const Case& c : kCases) {
    const int index = FindPrimitive(c.name);
    ASSERT_GE(index, 0) << c.name;
    EXPECT_EQ(RunCase(Dsl()[index], c), c.expected) << c.name << " on " << c.input;
  }
}

TEST(DslTest, EveryPrimitiveHasExactlyOneCase) {
  std::multiset<std::string> covered;
  for (const Case& c : kCases) covered.insert(c.name);
  for (const Primitive& p : Dsl()) EXPECT_EQ(covered.count(p.name), 1u) << p.name;
  EXPECT_EQ(covered.size(), Dsl().size());
}

TEST(DslTest, TableHasAtLeast120UniquelyNamedPrimitivesOfEveryKind) {
  std::set<std::string> names;
  int kinds[4] = {0, 0, 0, 0};
  for (const Primitive& p : Dsl()) {
    names.insert(p.name);
    ++kinds[static_cast<int>(p.kind)];
    switch (p.kind) {
      case Kind::kImageToImage: EXPECT_TRUE(p.image_to_image) << p.name; break;
      case Kind::kImageToList: EXPECT_TRUE(p.image_to_list) << p.name; break;
      case Kind::kListToImage: EXPECT_TRUE(p.list_to_image) << p.name; break;
      case Kind::kListToList: EXPECT_TRUE(p.list_to_list) << p.name; break;
    }
  }
  EXPECT_EQ(names.size(), Dsl().size());
  EXPECT_GE(Dsl().size(), 120u);
  for (int k = 0; k < 4; ++k) EXPECT_GT(kinds[k], 0) << "kind " << k;
  EXPECT_EQ(FindPrimitive("no_such_primitive"), -1);
  EXPECT_FALSE(Dsl()[FindPrimitive("recolour_3")].enumerated);
  EXPECT_TRUE(Dsl()[FindPrimitive("crop")].enumerated);
}

TEST(DslTest, CanvasPrimitivesFailWithoutAPredictedSize) {
  const ExampleContext unknown{/*in_w=*/2, /*in_h=*/2, /*out_w=*/-1, /*out_h=*/-1};
  for (const char* name : {"paste_out", "tile_out", "mirror_out", "scale_out"}) {
    const Primitive& p = Dsl()[FindPrimitive(name)];
    EXPECT_TRUE(p.image_to_image(ParseImage("12/30"), unknown).empty()) << name;
  }
}

TEST(DslTest, DownscaleNeedsUniformBlocks) {
  const Primitive& p = Dsl()[FindPrimitive("downscale_2")];
  EXPECT_TRUE(p.image_to_image(ParseImage("1122/1222/0033/0033"), {}).empty());
  EXPECT_TRUE(p.image_to_image(ParseImage("112/112"), {}).empty());
}

TEST(DslTest, ComponentsSeparateFourFromEightConnectivityAndColours) {
  const Image img = ParseImage("1100/0120/0003");
  EXPECT_EQ(ListText(Components(img, /*conn8=*/false, /*by_colour=*/false)), "110/012 | @3,2 3");
  EXPECT_EQ(ListText(Components(img, /*conn8=*/true, /*by_colour=*/false)), "1100/0120/0003");
  EXPECT_EQ(ListText(Components(img, /*conn8=*/true, /*by_colour=*/true)),
            "11/01 | @2,1 2 | @3,2 3");
}

TEST(DslTest, PasteOnCanvasClipsAtTheEdges) {
  Image obj = ParseImage("12/34");
  obj.x = 2;
  obj.y = -1;
  // Row 0 of the object lies above the canvas and "4" right of it.
  EXPECT_EQ(ImageToString(PasteOnCanvas(obj, 3, 2)), "003/000");
  EXPECT_EQ(ImageToString(Recolour(ParseImage("102"), 7)), "707");
  EXPECT_EQ(ImageToString(ToOrigin(obj)), "12/34");
}

}  // namespace
}  // namespace arc::search
