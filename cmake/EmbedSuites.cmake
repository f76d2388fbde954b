# Writes OUT, a C++ file defining builtin_suite_texts() from the YAML files (script mode): the YAML files in DIR.
file(GLOB FILES ${DIR}/*.yaml)
set(body "")
list(SORT FILES)
foreach(f ${FILES})
  get_filename_component(name ${f} NAME_WE)
  file(READ ${f} text)
  string(APPEND body "    {\"${name}\", R\"converge_yaml(${text})converge_yaml\"},\n")
endforeach()
file(WRITE ${OUT} "// Generated from runners/suites/*.yaml by cmake/EmbedSuites.cmake.\n"
  "#include \"runners/builtin_suites.hpp\"\n\nnamespace converge::runners {\n"
  "const std::vector<std::pair<std::string, std::string>>& builtin_suite_texts() {\n"
  "  static const std::vector<std::pair<std::string, std::string>> suites = {\n${body}  };\n"
  "  return suites;\n}\n}  // namespace converge::runners\n")
