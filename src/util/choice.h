// Named enums: a closed set of choices whose values have one user-facing name each (recipe keys,
// option values). A layer gives its enum names by specialising ChoiceNames next to the enum:
//
//   enum class Strategy { kNo, kSteps, kEpoch };
//   template <>
//   struct ChoiceNames<Strategy> {
//     static const std::vector<std::string>& names() {
//       static const std::vector<std::string> kNames{"no", "steps", "epoch"};
//       return kNames;
//     }
//   };
//
// names()[i] is the name of the enumerator whose value is i, so enumerators start at 0 and have
// no gaps. The recipe parses such a key once, when it is loaded (train/recipe.cpp); code past
// that point switches on the enum, so a misspelt choice does not compile.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace clintorch {

template <class E>
struct ChoiceNames;  // specialise: static const std::vector<std::string>& names();

// True for enums with a ChoiceNames specialisation.
template <class E, class = void>
struct is_choice : std::false_type {};
template <class E>
struct is_choice<E, std::void_t<decltype(ChoiceNames<E>::names())>> : std::true_type {};
template <class E>
inline constexpr bool is_choice_v = is_choice<E>::value;

template <class E>
const std::vector<std::string>& choice_names() {
  return ChoiceNames<E>::names();
}

template <class E>
const std::string& choice_name(E value) {
  return ChoiceNames<E>::names().at(static_cast<size_t>(value));
}

// The enumerator named `name`, or nullopt (names are case-sensitive, as in YAML recipes).
template <class E>
std::optional<E> choice_from_name(const std::string& name) {
  const std::vector<std::string>& names = ChoiceNames<E>::names();
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return static_cast<E>(i);
  }
  return std::nullopt;
}

}  // namespace clintorch
