// tests/str_cat.h: Cat("k", 7) == "k7". Tests build strings with it rather
// than with "literal" + std::to_string(...): GCC 12 at -O3 reports a false
// -Wrestrict inside libstdc++ for const char* + std::string&& (GCC bugs
// 105329, 105651), which -Werror would turn into a failed Release build.
#pragma once

#include <string>
#include <string_view>
#include <type_traits>

namespace ember::testing {

template <typename... Parts>
std::string Cat(const Parts&... parts) {
  std::string out;
  auto add = [&out](const auto& p) {
    using T = std::decay_t<decltype(p)>;
    if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, char>) {
      out.append(std::to_string(p));
    } else {
      out.append(std::string_view(p));
    }
  };
  (add(parts), ...);
  return out;
}

}  // namespace ember::testing
