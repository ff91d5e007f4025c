export declare function folderOf(srcDir: string, file: string): string;
export declare function importsOf(text: string): string[];
export declare function buildGraph(srcDir: string): Map<string, Map<string, string[]>>;
export declare function cyclesOf(edges: Map<string, Map<string, string[]>>): string[][];
export declare function checkGraph(srcDir: string): { edges: Map<string, Map<string, string[]>>; problems: string[] };
