#include "render/emit.h"

#include <ostream>

#include "render/records.h"

namespace sessionctl {

void emit(const Report& report, Format format, std::ostream& out, const Terminal& term) {
  switch (format) {
    case Format::table:
      out << safe_rendering(report.to_table(term));
      break;
    case Format::json:
      out << dump_json(report.to_json(), true) << '\n';
      break;
    case Format::jsonl:
      for (const auto& line : report.to_json_lines()) out << dump_json(line, false) << '\n';
      break;
  }
  out.flush();
}

}  // namespace sessionctl
