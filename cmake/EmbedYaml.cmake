# Writes OUT, a C++ file defining FUNC() from the YAML files in DIR (script mode):
# (name, text) pairs, sorted by name. Used for the built-in suites and example sites.
file(GLOB FILES ${DIR}/*.yaml)
set(body "")
list(SORT FILES)
foreach(f ${FILES})
  get_filename_component(name ${f} NAME_WE)
  file(READ ${f} text)
  string(APPEND body "    {\"${name}\", R\"converge_yaml(${text})converge_yaml\"},\n")
endforeach()
file(WRITE ${OUT} "// Generated from ${DIR}/*.yaml by cmake/EmbedYaml.cmake.\n"
  "#include \"runners/embedded_configs.hpp\"\n\nnamespace converge::runners {\n"
  "const std::vector<std::pair<std::string, std::string>>& ${FUNC}() {\n"
  "  static const std::vector<std::pair<std::string, std::string>> texts = {\n${body}  };\n"
  "  return texts;\n}\n}  // namespace converge::runners\n")
