// The grid DSL of the program search: a fixed table of typed primitives over images and lists.
//
// Every primitive has one of four signatures: image -> image, image -> list, list -> image or
// list -> list. Parameters are enumerated into separate primitives (keep_3 keeps colour 3, smear_r
// smears right, ...), so a program is a chain of parameter-free steps and its text is a nested
// call, e.g. "crop(largest(objects8(x)))". A primitive that does not apply returns the empty image
// (or an empty list): the search treats that as a dead branch.
//
// The few primitives that need a canvas size read it from an ExampleContext: the size of the
// example's input and the output size the search predicted from the demonstrations (out_w/out_h
// -1 when unknown; those primitives then fail).
//
// Dsl() builds the table once (thread-safe static) and returns it by reference; it is immutable and
// the functions in it are pure, so any number of threads may call them at once.
#ifndef ARC_CORE_SEARCH_DSL_H_
#define ARC_CORE_SEARCH_DSL_H_

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/search/image.h"

namespace arc::search {

enum class Kind { kImageToImage, kImageToList, kListToImage, kListToList };

// What a primitive may know about the example it runs on besides its argument.
struct ExampleContext {
  int in_w = 0, in_h = 0;      // the example's input size
  int out_w = -1, out_h = -1;  // the predicted output size; -1 when unknown
};

struct Primitive {
  std::string name;   // unique, e.g. "keep_3", "rot90", "objects8"
  std::string group;  // geometry, colour, objects, composition, drawing, canvas, count, list
  Kind kind = Kind::kImageToImage;
  // Exactly the member matching `kind` is set.
  std::function<Image(const Image&, const ExampleContext&)> image_to_image;
  std::function<std::vector<Image>(const Image&, const ExampleContext&)> image_to_list;
  std::function<Image(const std::vector<Image>&, const ExampleContext&)> list_to_image;
  std::function<std::vector<Image>(const std::vector<Image>&, const ExampleContext&)> list_to_list;
  // False for primitives the search applies only as a final step (recolour_c), never inside the
  // breadth-first enumeration.
  bool enumerated = true;
};

// The whole table, in a fixed order (the search's enumeration order, hence its tie order).
const std::vector<Primitive>& Dsl();
// Index into Dsl() of the named primitive, or -1.
int FindPrimitive(std::string_view name);

// Helpers the search and the tests share.
// The 4- or 8-connected components of non-zero cells, multicolour unless `by_colour`, each cropped
// to its bounding box with its offset kept (other cells 0); in row-major order of first cell.
std::vector<Image> Components(const Image& image, bool conn8, bool by_colour);
// `image` moved to (0, 0).
Image ToOrigin(Image image);
// A canvas of w x h at (0, 0) with the non-zero cells of `image` painted at its offset (clipped).
Image PasteOnCanvas(const Image& image, int w, int h);
// The same into `out`, reusing its storage (the search's leaf checks, once per state).
void PasteOnCanvasInto(const Image& image, int w, int h, Image& out);
// Non-zero cells set to `colour`.
Image Recolour(const Image& image, uint8_t colour);

}  // namespace arc::search

#endif  // ARC_CORE_SEARCH_DSL_H_
