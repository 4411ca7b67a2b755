//! Run order from `depends_on`: levels of a dependency graph, or the cycle
//! that prevents them.

use indexmap::IndexMap;

/// The run order (1-based level) of each node, so that everything a node
/// depends on runs before it; a cycle is returned as the path around it.
/// Unknown dependencies are ignored (reported separately).
pub fn levels<'a>(graph: &IndexMap<&'a str, Vec<&'a str>>) -> Result<IndexMap<&'a str, u32>, Vec<&'a str>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done(u32),
    }
    fn visit<'a>(
        node: &'a str,
        graph: &IndexMap<&'a str, Vec<&'a str>>,
        marks: &mut IndexMap<&'a str, Mark>,
        path: &mut Vec<&'a str>,
    ) -> Result<u32, Vec<&'a str>> {
        match marks[node] {
            Mark::Done(level) => return Ok(level),
            Mark::Active => {
                let start = path.iter().position(|n| *n == node).unwrap_or(0);
                let mut cycle: Vec<&str> = path[start..].to_vec();
                cycle.push(node);
                return Err(cycle);
            }
            Mark::New => {}
        }
        marks.insert(node, Mark::Active);
        path.push(node);
        let mut level = 1;
        for dep in &graph[node] {
            if graph.contains_key(dep) {
                level = level.max(visit(dep, graph, marks, path)? + 1);
            }
        }
        path.pop();
        marks.insert(node, Mark::Done(level));
        Ok(level)
    }
    let mut marks: IndexMap<&str, Mark> = graph.keys().map(|k| (*k, Mark::New)).collect();
    let mut out = IndexMap::new();
    for node in graph.keys() {
        let level = visit(node, graph, &mut marks, &mut Vec::new())?;
        out.insert(*node, level);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph<'a>(edges: &[(&'a str, &[&'a str])]) -> IndexMap<&'a str, Vec<&'a str>> {
        edges.iter().map(|(k, v)| (*k, v.to_vec())).collect()
    }

    #[test]
    fn levels_follow_dependencies() {
        let g = graph(&[("frontend", &["orders", "warehouse"]), ("orders", &[]), ("warehouse", &["orders"])]);
        let l = levels(&g).unwrap();
        assert_eq!((l["orders"], l["warehouse"], l["frontend"]), (1, 2, 3));
    }

    #[test]
    fn cycles_are_reported_as_a_path() {
        let g = graph(&[("a", &["b"]), ("b", &["c"]), ("c", &["a"]), ("d", &[])]);
        assert_eq!(levels(&g).unwrap_err(), vec!["a", "b", "c", "a"]);
        let g = graph(&[("a", &["a"])]);
        assert_eq!(levels(&g).unwrap_err(), vec!["a", "a"]);
    }
}
